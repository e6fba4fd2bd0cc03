import {LIMITS} from './limits.js'

/** JSON Schema of the init file (draft 2020-12 subset that ajv's default build understands). */
const name = {type: 'string', pattern: '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$'}
const stringList = {type: 'array', items: {type: 'string', minLength: 1}}
/** Ansible group names: they go into the INI inventory as "[group]". */
const groupName = {type: 'string', pattern: '^[A-Za-z0-9_.-]+$'}
/** A login name on the guest (it reaches ssh, inventories and scripts). */
const userName = {type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$'}
const size = {
  anyOf: [
    {type: 'integer', minimum: 1},
    {type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?\\s*([KkMmGgTt]i?[Bb]?)?$'},
  ],
}
const ipv4 = {type: 'string', format: 'ipv4'}

const disk = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: {enum: ['template', 'file', 'empty']},
    name: name,
    dev: {type: 'string', pattern: '^(vd|sd)[a-z]{1,2}$'},
    format: {enum: ['qcow2', 'raw', 'iso']},
    size: size,
    template_name: {type: 'string', minLength: 1},
    template_version: {type: 'string', minLength: 1},
    template_checksum: {type: 'string', pattern: '^((sha1|sha256|sha512)[:=])?[0-9a-fA-F]{40,128}$'},
    template_type: {enum: ['lago', 'qcow2']},
    path: {type: 'string', minLength: 1},
    make_a_copy: {type: 'boolean'},
    metadata: {type: 'object'},
    comment: {type: 'string'},
  },
  allOf: [
    {if: {properties: {type: {const: 'template'}}}, then: {required: ['template_name']}},
    {if: {properties: {type: {const: 'file'}}}, then: {required: ['path']}},
    {if: {properties: {type: {const: 'empty'}}}, then: {required: ['size']}},
  ],
}

const domain = {
  type: 'object',
  additionalProperties: false,
  required: ['nics', 'disks'],
  properties: {
    memory: size,
    vcpu: {type: 'integer', minimum: 1, maximum: 256},
    cpu_model: {type: 'string', minLength: 1},
    nics: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['net'],
        properties: {net: {type: 'string', minLength: 1}, ip: ipv4},
      },
    },
    disks: {type: 'array', minItems: 1, items: disk},
    metadata: {type: 'object'},
    artifacts: stringList,
    groups: {anyOf: [{type: 'array', items: groupName}, groupName]},
    bootstrap: {type: 'boolean'},
    'ssh-user': userName,
    'ssh-password': {type: 'string'},
    'root-password': {type: 'string'},
    'vm-type': {type: 'string', minLength: 1},
    'vm-provider': {enum: ['local-libvirt']},
    service_provider: {enum: ['systemd', 'sysvinit', 'busybox']},
    'deploy-scripts': stringList,
    boot_time_sec: {type: 'integer', minimum: 1, maximum: LIMITS.bootTimeSec},
    distro: {type: 'string'},
  },
}

const net = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: {enum: ['nat', 'bridge']},
    management: {type: 'boolean'},
    dhcp: {
      type: 'object',
      additionalProperties: false,
      required: ['start', 'end'],
      properties: {start: {type: 'integer', minimum: 2, maximum: 254}, end: {type: 'integer', minimum: 2, maximum: 254}},
    },
    dns_domain_name: {type: 'string', pattern: '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$'},
    gw: ipv4,
  },
}

export const INIT_FILE_SCHEMA = {
  $id: 'https://lago.example/schemas/init-file.json',
  title: 'Lago init file',
  type: 'object',
  additionalProperties: false,
  required: ['domains', 'nets'],
  properties: {
    domains: {type: 'object', minProperties: 1, propertyNames: name, additionalProperties: domain},
    nets: {type: 'object', minProperties: 1, propertyNames: {type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$'}, additionalProperties: net},
    prototypes: {type: 'object'},
  },
} as const
