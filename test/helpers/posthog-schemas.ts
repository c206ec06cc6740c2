/**
 * Validates response bodies against PostHog's own published OpenAPI schemas (test/fixtures/posthog-openapi.yaml, a
 * committed copy of shared/reference/posthog-openapi.yaml; see test/fixtures/README.md).
 *
 * The schemas are OpenAPI 3.0 (nullable, readOnly, writeOnly); they are converted to JSON Schema with
 * @openapi-contrib/openapi-schema-to-json-schema and checked with Ajv (non-strict, with ajv-formats), with three
 * adjustments, all made here and nowhere else:
 *
 * 1. Response semantics: writeOnly properties (password, current_password, ...) are request-only, so they are
 *    dropped from `required`.
 * 2. `nullable: true` next to a bare `$ref`/`allOf`/`oneOf` (no `type`) is kept as "or null"; the converter only
 *    honours `nullable` on schemas that have a `type` and would silently drop it otherwise.
 * 3. ERRATA: where PostHog's published schema contradicts what PostHog's server really returns, the property is
 *    replaced. Each entry says why. An entry whose target has disappeared from the schema fails loudly, so the
 *    list cannot go stale silently.
 */
import { readFileSync } from 'node:fs';
import { openapiSchemaToJsonSchema } from '@openapi-contrib/openapi-schema-to-json-schema';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import YAML from 'yaml';

export const POSTHOG_OPENAPI_PATH = new URL('../fixtures/posthog-openapi.yaml', import.meta.url);

type OpenApiSchema = Record<string, unknown>;

interface Erratum {
  schema: string;
  property: string;
  /** The OpenAPI schema PostHog's server actually honours for this property. */
  actual: OpenApiSchema;
  why: string;
}

/** The one list of places where PostHog's published schema disagrees with PostHog's running server. */
export const ERRATA: readonly Erratum[] = [
  {
    schema: 'Organization',
    property: 'member_count',
    actual: { type: 'integer', readOnly: true },
    why:
      'A SerializerMethodField without a type hint, which drf-spectacular publishes as string; ' +
      'get_member_count returns the integer count of active members, and the web app does arithmetic on it.',
  },
  {
    schema: 'Organization',
    property: 'metadata',
    actual: { type: 'object', additionalProperties: {}, readOnly: true },
    why: 'A SerializerMethodField published as string; get_metadata returns the object {"instance_tag": ...}.',
  },
  {
    schema: 'User',
    property: 'role_at_organization',
    actual: {
      nullable: true,
      oneOf: [
        { $ref: '#/components/schemas/RoleAtOrganizationEnum' },
        { $ref: '#/components/schemas/BlankEnum' },
        { $ref: '#/components/schemas/NullEnum' },
      ],
    },
    why:
      'The model field is CharField(choices=ROLE_CHOICES, null=True, blank=True): users who never picked a role ' +
      'have null. UserBasic publishes exactly this; UserSerializer redeclares the field and loses null and blank.',
  },
];

const COMPOSITES = ['allOf', 'oneOf', 'anyOf'] as const;

function isObject(value: unknown): value is OpenApiSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Adjustments 1 and 2 of the header, applied to an OpenAPI schema and everything nested in it. */
function forResponses(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forResponses);
  if (!isObject(schema)) return schema;
  const out: OpenApiSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    out[key] = key === 'example' || key === 'enum' || key === 'default' ? value : forResponses(value);
  }
  if (isObject(out.properties) && Array.isArray(out.required)) {
    const properties = out.properties;
    out.required = out.required.filter((name) => {
      const property = properties[String(name)];
      return !(isObject(property) && property.writeOnly === true);
    });
  }
  if (out.nullable === true && out.type === undefined && (out.$ref !== undefined || COMPOSITES.some((k) => k in out))) {
    const { nullable: _nullable, readOnly, writeOnly, description, ...rest } = out;
    return {
      anyOf: [rest, { enum: [null] }],
      ...(readOnly !== undefined && { readOnly }),
      ...(writeOnly !== undefined && { writeOnly }),
      ...(description !== undefined && { description }),
    };
  }
  return out;
}

function loadSchemas(): Record<string, unknown> {
  const spec = YAML.parse(readFileSync(POSTHOG_OPENAPI_PATH, 'utf8')) as { components: { schemas: Record<string, OpenApiSchema> } };
  const schemas = spec.components.schemas;
  for (const erratum of ERRATA) {
    const properties = schemas[erratum.schema]?.properties;
    if (!isObject(properties) || !(erratum.property in properties)) {
      throw new Error(`posthog-schemas erratum targets ${erratum.schema}.${erratum.property}, which the published schema no longer has`);
    }
    properties[erratum.property] = erratum.actual;
  }
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => {
      const converted = openapiSchemaToJsonSchema(forResponses(schema) as OpenApiSchema, { keepNotSupported: ['readOnly', 'writeOnly'] }) as Record<
        string,
        unknown
      >;
      // The converter marks each schema as draft-04; Ajv 8 reads them as its default draft, which is what we want.
      delete converted.$schema;
      return [name, converted];
    }),
  );
}

const schemas = loadSchemas();
const ajv = new Ajv({ strict: false, allErrors: true });
// ajv-formats is CommonJS: under NodeNext the default import is its module.exports, whose `default` is the plugin.
ajvFormats.default(ajv);
// OpenAPI's number formats that ajv-formats does not define; the type check is what matters.
for (const format of ['decimal', 'uri-reference']) if (!ajv.formats[format]) ajv.addFormat(format, true);
ajv.addSchema({ components: { schemas } }, 'posthog');

export type PostHogSchemaName = string;

export function postHogSchemaNames(): string[] {
  return Object.keys(schemas);
}

function validatorFor(name: PostHogSchemaName): ValidateFunction {
  if (!(name in schemas)) throw new Error(`PostHog's published schema has no component "${name}"`);
  const validate = ajv.getSchema(`posthog#/components/schemas/${name}`);
  if (!validate) throw new Error(`Ajv could not compile PostHog schema "${name}"`);
  return validate;
}

function valueAt(body: unknown, pointer: string): unknown {
  let value = body;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    value = isObject(value) || Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

const clip = (text: string, max = 120): string => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

function describeError(name: string, body: unknown, error: ErrorObject): string {
  const where = `${name}${error.instancePath.replace(/\//g, '.')}`;
  const message = error.message ?? error.keyword;
  // The missing property is in the message already; the parent object would only be noise.
  if (error.keyword === 'required') return `  ${where}: ${message}`;
  const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
  const detail = allowed ? ` ${clip(JSON.stringify(allowed), 80)}` : '';
  const got = JSON.stringify(valueAt(body, error.instancePath));
  return `  ${where}: ${message}${detail}; got ${got === undefined ? 'nothing' : clip(got)} (schema ${error.schemaPath})`;
}

/** The readable Ajv errors of `body` against PostHog's component `name`; empty when it conforms. */
export function postHogSchemaErrors(body: unknown, name: PostHogSchemaName): string[] {
  const validate = validatorFor(name);
  if (validate(body)) return [];
  return (validate.errors ?? []).map((error) => describeError(name, body, error));
}

/** Fails (throws) with every Ajv error when `body` does not match PostHog's published component `name`. */
export function expectPostHogSchema(body: unknown, name: PostHogSchemaName): void {
  const errors = postHogSchemaErrors(body, name);
  if (errors.length > 0) {
    throw new Error(`Response does not match PostHog's published schema "${name}" (${errors.length} error(s)):\n${errors.join('\n')}`);
  }
}
