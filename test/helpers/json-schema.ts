/**
 * A JSON Schema checker for the subset the OpenAPI documents use: `$ref` to
 * `#/components/schemas/...`, `type` (a name or a list), `required`,
 * `properties`, `additionalProperties: false`, `items`, `enum`, `oneOf` and
 * `pattern`. Any other keyword fails the check, so the documents cannot start
 * using one that this checker would silently ignore.
 */

type Schema = Record<string, unknown>;

const KNOWN = new Set(['$ref', 'type', 'required', 'properties', 'additionalProperties', 'items', 'enum', 'oneOf', 'pattern', 'description']);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Returns the problems of `value` against `schema`, each with a JSON path; empty when it is valid. */
export function validateSchema(value: unknown, schema: Schema, root: { components: { schemas: Record<string, Schema> } }, path = '$'): string[] {
  const unknown = Object.keys(schema).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) return [`${path}: the checker does not support keyword ${unknown.join(', ')}`];
  if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) {
    return [`${path}: the checker supports only additionalProperties: false`];
  }

  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = root.components.schemas[name];
    if (!target) return [`${path}: unresolved $ref ${schema.$ref}`];
    const problems = validateSchema(value, target, root, path);
    const rest = Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$ref'));
    return Object.keys(rest).length > 0 ? [...problems, ...validateSchema(value, rest, root, path)] : problems;
  }

  if (Array.isArray(schema.oneOf)) {
    const matches = (schema.oneOf as Schema[]).filter((option) => validateSchema(value, option, root, path).length === 0).length;
    if (matches !== 1) return [`${path}: matches ${matches} of the oneOf schemas, expected exactly 1`];
  }

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((type) => hasType(value, type))) return [`${path}: expected ${types.join(' or ')}, got ${typeOf(value)}`];
  }

  const problems: string[] = [];
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => option === value)) {
    problems.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof schema.pattern === 'string' && typeof value === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
    problems.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  }

  if (typeOf(value) === 'object') {
    const record = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in record)) problems.push(`${path}: missing required property ${name}`);
    }
    for (const [name, child] of Object.entries(record)) {
      if (properties[name]) problems.push(...validateSchema(child, properties[name]!, root, `${path}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${path}: property ${name} is not allowed`);
    }
  }

  if (Array.isArray(value) && schema.items) {
    value.forEach((item, index) => problems.push(...validateSchema(item, schema.items as Schema, root, `${path}[${index}]`)));
  }
  return problems;
}
