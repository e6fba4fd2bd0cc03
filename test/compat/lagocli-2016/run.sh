#!/bin/bash -ex
# The "Step by step" flow of the 2016 getting-started guide (lagocli, cwd-based), run in a copy
# of this directory. Changed apart from paths: sed uses "|" (the guide's "s/@SUITE@/$PWD/"
# breaks on the slashes of any path), reposetup's file is "../" (it runs inside the prefix), and
# "lagocli shell engine" reads its commands from stdin instead of a terminal.
suite_path=$PWD
sed -e "s|@SUITE@|$suite_path|g" init.json.in > init.json

lagocli init \
     --template-repo-path=template-repo.json \
     deployment-basic_suite_3.5 \
     init.json

cd deployment-basic_suite_3.5
lagocli ovirt reposetup --reposync-yum-config="../reposync-config.repo"
lagocli start
lagocli ovirt deploy
lagocli ovirt runtest ../test-scenarios/001_initialize_engine.py
lagocli ovirt collect \
    --output "test_logs"
echo 'hostname; exit 0' | lagocli shell engine
lagocli stop
lagocli start
lagocli status
lagocli cleanup
