#!/bin/bash -e
# A copy of the flow of oVirt system tests' run_suite.sh as of May 2019 (d19b01e5), the last
# one driving the Python Lago, kept as it called lago. Changed, apart from paths: the suite is
# this directory's files (run_suite.sh SUITE_DIR), the oVirt-only steps (engine ISO, host
# images, ansible checks, mock) are gone, and the template repository comes from
# $TEMPLATE_REPO_PATH (OST: $SUITE/template-repo.json).
#
# Usage: run_suite.sh [-s EXTRA_SOURCE]... [-i] SUITE_DIR     (run; -i also exports images)
#        run_suite.sh -c SUITE_DIR                             (cleanup)
CLI="lago"
DO_CLEANUP=false
RECOMMENDED_RAM_IN_MB=2048
EXTRA_SOURCES=()
CREATE_IMAGES=false

usage () {
    echo "Usage: $0 [-s EXTRA_SOURCE]... [-i] [-c] SUITE"
}

env_init () {
    local template_repo="${1:-$SUITE/template-repo.json}"
    local initfile="${2:-$SUITE/LagoInitFile}"
    $CLI init \
        $PREFIX \
        "$initfile" \
        --template-repo-path "$template_repo"
}

env_repo_setup () {
    local extrasrc
    declare -a extrasrcs
    cd $PREFIX
    for extrasrc in "${EXTRA_SOURCES[@]}"; do
        extrasrcs+=("--custom-source=$extrasrc")
        echo "Adding extra source: $extrasrc"
    done
    local reposync_conf="$SUITE/reposync-config.repo"
    echo "using reposync config file: $reposync_conf"
    http_proxy="" $CLI ovirt reposetup \
        --reposync-yum-config "$reposync_conf" \
        "${extrasrcs[@]}"
    cd -
}

env_start () {
    cd $PREFIX
    $CLI start
    cd -
}

env_status () {
    cd $PREFIX
    $CLI status
    cd -
}

env_deploy () {
    local res=0
    cd "$PREFIX"
    $CLI ovirt deploy || res=$?
    cd -
    return "$res"
}

env_run_test () {
    local res=0
    cd $PREFIX
    local junitxml_file="$PREFIX/${1##*/}.junit.xml"
    $CLI ovirt runtest $1 --junitxml-file "${junitxml_file}" || res=$?
    [[ "$res" -ne 0 ]] && cat "${junitxml_file}"
    cd -
    return "$res"
}

env_collect () {
    local tests_out_dir="${1?}"
    [[ -e "${tests_out_dir%/*}" ]] || mkdir -p "${tests_out_dir%/*}"
    cd "$PREFIX/current"
    $CLI collect --output "$tests_out_dir"
    cp -a "logs" "$tests_out_dir/lago_logs" || :
    cd -
}

env_export () {
    cd $PREFIX
    $CLI ovirt stop
    $CLI --out-format yaml export --dst-dir exported_images --standalone
    cd -
}

env_cleanup() {
    local res=0
    local uuid
    echo "======== Cleaning up"
    if [[ -e "$PREFIX" ]]; then
        echo "----------- Cleaning with lago"
        $CLI --workdir "$PREFIX" destroy --yes --all-prefixes || res=$?
        echo "----------- Cleaning with lago done"
    else
        echo "----------- No prefix found, nothing to clean"
    fi
    echo "======== Cleanup done"
    return "$res"
}

options=$(getopt -o s:ic --long extra-rpm-source:,images,cleanup -n "run_suite.sh" -- "$@") || { usage; exit 1; }
eval set -- "$options"
while true; do
    case $1 in
        -s|--extra-rpm-source) EXTRA_SOURCES+=("$2"); shift 2 ;;
        -i|--images) CREATE_IMAGES=true; shift ;;
        -c|--cleanup) DO_CLEANUP=true; shift ;;
        --) shift; break ;;
    esac
done
if [[ -z "$1" ]]; then
    usage
    exit 1
fi

export SUITE="$(realpath --no-symlinks "$1")"
export SUITE_NAME="${SUITE##*/}"
export PREFIX="$PWD/deployment-$SUITE_NAME"

if "$DO_CLEANUP"; then
    env_cleanup
    exit $?
fi

echo "Running suite found in ${SUITE}"
echo "Environment will be deployed at ${PREFIX}"

rm -rf "${PREFIX}"

env_init "${TEMPLATE_REPO_PATH:-$SUITE/template-repo.json}" "$SUITE/LagoInitFile"
env_repo_setup
env_start
env_status
if ! env_deploy; then
    env_collect "$PWD/test_logs/${SUITE_NAME}/post-000_deploy"
    echo "@@@@ ERROR: Failed in deploy stage"
    exit 1
fi

declare test_scenarios=($(ls "$SUITE"/test-scenarios/*.py | grep -v conftest | sort))
for scenario in "${test_scenarios[@]}"; do
    echo "Running test scenario ${scenario##*/}"
    env_run_test "$scenario" || { env_collect "$PWD/test_logs/${SUITE_NAME}/post-${scenario##*/}"; echo "@@@@ ERROR: Failed running $scenario"; exit 1; }
    env_collect "$PWD/test_logs/${SUITE_NAME}/post-${scenario##*/}"
done

if "$CREATE_IMAGES"; then
    env_export
fi
