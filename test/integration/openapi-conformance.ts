// Checks a JSON value against a schema of the OpenAPI document: the subset of JSON Schema the
// document uses. A keyword outside that subset throws, so a new one cannot pass unchecked.

type Schema = Record<string, unknown>;

/** The OpenAPI document as this check reads it. */
export type OpenApiDocument = {
  paths: Record<string, Record<string, { responses?: Record<string, ResponseObject> }>>;
  components: { schemas: Record<string, Schema> };
};

type ResponseObject = { content?: Record<string, { schema: Schema }> };

// Words that describe a value without constraining it.
const ANNOTATIONS = new Set([
  'description',
  'format',
  'writeOnly',
  'readOnly',
  'contentEncoding',
  'contentMediaType',
]);

/**
 * Where `body`, answered with `status` by the operation, disagrees with the JSON schema the
 * document gives that answer; empty when it agrees. An undocumented status is a disagreement.
 */
export function responseProblems(
  document: OpenApiDocument,
  operation: { method: string; path: string },
  status: number,
  body: unknown,
): string[] {
  const item = document.paths[operation.path]?.[operation.method.toLowerCase()];
  if (!item) return [`${operation.method} ${operation.path} is not in the document`];
  const answer = item.responses?.[String(status)] ?? item.responses?.default;
  if (!answer) return [`${operation.method} ${operation.path} does not document ${status}`];
  const schema = answer.content?.['application/json']?.schema;
  if (!schema) return body === undefined || body === '' ? [] : [`${status} documents no body`];
  return problemsOf(document, schema, body, '$');
}

function problemsOf(document: OpenApiDocument, schema: Schema, value: unknown, at: string) {
  const problems: string[] = [];
  for (const [keyword, rule] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    const check = KEYWORDS[keyword];
    if (!check) throw new Error(`the check does not know the keyword ${keyword} (at ${at})`);
    problems.push(...check(rule, value, at, document, schema));
  }
  return problems;
}

type Check = (
  rule: unknown,
  value: unknown,
  at: string,
  document: OpenApiDocument,
  schema: Schema,
) => string[];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}

const KEYWORDS: Record<string, Check> = {
  $ref(rule, value, at, document) {
    const name = String(rule).replace('#/components/schemas/', '');
    const target = document.components.schemas[name];
    if (!target) throw new Error(`unknown schema ${String(rule)}`);
    return problemsOf(document, target, value, at);
  },
  type(rule, value, at) {
    const allowed = Array.isArray(rule) ? rule : [rule];
    const actual = typeOf(value);
    const fits = allowed.includes(actual) || (actual === 'integer' && allowed.includes('number'));
    return fits ? [] : [`${at} is ${actual}, not ${allowed.join(' or ')}`];
  },
  enum(rule, value, at) {
    return (rule as unknown[]).includes(value)
      ? []
      : [`${at} ${JSON.stringify(value)} not in enum`];
  },
  required(rule, value, at) {
    if (!isObject(value)) return [];
    return (rule as string[]).filter((key) => !(key in value)).map((key) => `${at}.${key} missing`);
  },
  properties(rule, value, at, document) {
    if (!isObject(value)) return [];
    return Object.entries(rule as Record<string, Schema>).flatMap(([key, schema]) =>
      key in value ? problemsOf(document, schema, value[key], `${at}.${key}`) : [],
    );
  },
  additionalProperties(rule, value, at, document, schema) {
    if (!isObject(value) || rule === true) return [];
    const known = Object.keys((schema.properties as Schema | undefined) ?? {});
    const extra = Object.keys(value).filter((key) => !known.includes(key));
    if (rule === false) return extra.map((key) => `${at}.${key} is not documented`);
    return extra.flatMap((key) => problemsOf(document, rule as Schema, value[key], `${at}.${key}`));
  },
  items(rule, value, at, document) {
    if (!Array.isArray(value)) return [];
    return value.flatMap((entry, i) => problemsOf(document, rule as Schema, entry, `${at}[${i}]`));
  },
  oneOf(rule, value, at, document) {
    const fitting = (rule as Schema[]).filter(
      (schema) => problemsOf(document, schema, value, at).length === 0,
    );
    return fitting.length === 1 ? [] : [`${at} fits ${fitting.length} of oneOf, not exactly 1`];
  },
  maxItems: (rule, value, at) =>
    Array.isArray(value) && value.length > Number(rule) ? [`${at} has too many items`] : [],
  maxLength: (rule, value, at) =>
    typeof value === 'string' && value.length > Number(rule) ? [`${at} is too long`] : [],
  minLength: (rule, value, at) =>
    typeof value === 'string' && value.length < Number(rule) ? [`${at} is too short`] : [],
  pattern: (rule, value, at) =>
    typeof value === 'string' && !new RegExp(String(rule), 'u').test(value)
      ? [`${at} ${JSON.stringify(value)} does not match ${String(rule)}`]
      : [],
  minimum: (rule, value, at) =>
    typeof value === 'number' && value < Number(rule) ? [`${at} is below ${String(rule)}`] : [],
  maximum: (rule, value, at) =>
    typeof value === 'number' && value > Number(rule) ? [`${at} is above ${String(rule)}`] : [],
};
