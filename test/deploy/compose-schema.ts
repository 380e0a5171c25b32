/**
 * The part of the Compose Specification (compose-spec.io, schema/compose-spec.json) that
 * docker-compose.yml uses, as a JSON Schema: the same property names, types and enums, and no other
 * keys, so a misspelt or misplaced key fails here the way `docker compose config` refuses it.
 */
const stringOrList = { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
const duration = { type: 'string', pattern: '^(\\d+(ns|us|ms|s|m|h))+$' };

export const composeSubsetSchema = {
  type: 'object',
  required: ['services'],
  additionalProperties: false,
  patternProperties: { '^x-': {} },
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' },
    volumes: { type: 'object', additionalProperties: { anyOf: [{ type: 'null' }, { type: 'object' }] } },
    services: {
      type: 'object',
      propertyNames: { pattern: '^[a-zA-Z0-9._-]+$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        anyOf: [{ required: ['image'] }, { required: ['build'] }],
        properties: {
          image: { type: 'string' },
          build: { oneOf: [{ type: 'string' }, { type: 'object', properties: { context: { type: 'string' }, dockerfile: { type: 'string' } }, additionalProperties: false }] },
          command: stringOrList,
          entrypoint: stringOrList,
          environment: {
            oneOf: [
              { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
              { type: 'array', items: { type: 'string' } },
            ],
          },
          ports: { type: 'array', items: { type: 'string', pattern: '^(\\d+\\.\\d+\\.\\d+\\.\\d+:)?\\d+(:\\d+)?(/(tcp|udp))?$' } },
          volumes: { type: 'array', items: { type: 'string' } },
          depends_on: {
            type: 'object',
            additionalProperties: {
              type: 'object', required: ['condition'], additionalProperties: false,
              properties: {
                condition: { enum: ['service_started', 'service_healthy', 'service_completed_successfully'] },
                restart: { type: 'boolean' }, required: { type: 'boolean' },
              },
            },
          },
          healthcheck: {
            type: 'object', required: ['test'], additionalProperties: false,
            properties: {
              test: {
                oneOf: [
                  { type: 'string' },
                  { type: 'array', minItems: 2, items: { type: 'string' }, prefixItems: [{ enum: ['CMD', 'CMD-SHELL'] }] },
                ],
              },
              interval: duration, timeout: duration, start_period: duration, start_interval: duration,
              retries: { type: 'integer', minimum: 0 }, disable: { type: 'boolean' },
            },
          },
          deploy: {
            type: 'object', additionalProperties: false,
            properties: { replicas: { type: 'integer', minimum: 0 }, restart_policy: { type: 'object' }, resources: { type: 'object' } },
          },
          restart: { enum: ['no', 'always', 'on-failure', 'unless-stopped'] },
          stop_grace_period: duration,
        },
      },
    },
  },
} as const;
