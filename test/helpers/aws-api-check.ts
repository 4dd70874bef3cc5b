/**
 * Checks a planned resource's inputs against AWS's API models: each input is walked through
 * test/helpers/aws-api-map.ts to the API member it becomes, and its value is held to that
 * member's shape: type, `pattern`, `min`/`max` (string length, list or map entries, numeric
 * range) and `enum`, the rules the service itself applies before anything is created.
 */
import type { AwsModels, Shape } from "./aws-models";
import { AWS_API_MAP, type FieldMap } from "./aws-api-map";
import { javaPattern } from "./java-pattern";

export interface PlannedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

export interface Violation {
  /** `TYPE NAME`, e.g. `aws:dlm/lifecyclePolicy:LifecyclePolicy jetstream-backups`. */
  resource: string;
  /** The Pulumi input with its indexes, e.g. `policyDetails.schedules[0].name`. */
  input: string;
  /** `service Operation.Member…`, e.g. `dlm CreateLifecyclePolicy.Description`. */
  api: string;
  /** The rule broken, e.g. `pattern [0-9A-Za-z _-]+` or `length ≤ 500`. */
  rule: string;
  value: unknown;
}

export const describeViolation = (v: Violation): string =>
  `${v.resource}: input ${v.input} → ${v.api} breaks ${v.rule}: ${JSON.stringify(v.value)}`;

export interface ResourceCheck {
  violations: Violation[];
  /** Input paths (`[]` for list elements) the table does not name. */
  unmapped: string[];
  /** Values checked against a shape. */
  checked: number;
  /** Values only known at deploy time (ids, lookups, archives): mapped but not checkable here. */
  deployTime: number;
}

/**
 * Deploy-time values as the offline plan shows them (scripts/plan-mocks.ts): a created
 * resource's id or output is `<name>-id`, `<name>-private-ip`, …; a lookup is
 * `(<token>, looked up at deploy)`. They stand for values AWS itself will hand back.
 */
export function deployTimePlaceholders(resources: { name: string }[]): Set<string> {
  const suffixes = ["id", "private-ip", "nlb-dns-name", "zone-id", "generated-at-deploy"];
  return new Set(resources.flatMap((r) => suffixes.map((s) => `${r.name}-${s}`)));
}
const LOOKUP = /^\(\S+, looked up at deploy\)$/;

/** Pulumi's assets and archives reach the plan as `{ __pulumiArchive: … }` / `{ __pulumiAsset: … }`. */
const isPulumiAsset = (v: unknown): boolean =>
  typeof v === "object" && v !== null && ("__pulumiArchive" in v || "__pulumiAsset" in v);

// ---------------------------------------------------------------------------------------------
// Shapes reached by an API path.

export interface ApiTarget {
  service: string;
  operation: string;
  /** The path as written in the table, for messages. */
  path: string;
  shapeName: string;
  shape: Shape;
}

/** The shape at `Operation.Member.Member[]…` in `service`'s model; throws naming what is missing. */
export function resolveApiPath(models: AwsModels, service: string, path: string): ApiTarget {
  const [operation, ...members] = path.split(".");
  const model = models.service(service);
  const op = model.operations[String(operation)];
  if (op?.input === undefined) throw new Error(`${service} has no operation ${String(operation)} with input`);
  const shapeOf = (name: string): Shape => {
    const shape = model.shapes[name];
    if (shape === undefined) throw new Error(`${service} has no shape ${name}`);
    return shape;
  };
  let shapeName = op.input.shape;
  for (const segment of members) {
    const listDepth = (/(\[\])+$/.exec(segment)?.[0].length ?? 0) / 2;
    const member = segment.slice(0, segment.length - listDepth * 2);
    const shape = shapeOf(shapeName);
    const next = shape.type === "structure" ? shape.members[member] : undefined;
    if (next === undefined) throw new Error(`${service} ${path}: ${shapeName} has no member ${member}`);
    shapeName = next.shape;
    for (let d = 0; d < listDepth; d++) {
      const list = shapeOf(shapeName);
      if (list.type !== "list") throw new Error(`${service} ${path}: ${member} is not a list`);
      shapeName = list.member.shape;
    }
  }
  return { service, operation: String(operation), path, shapeName, shape: shapeOf(shapeName) };
}

/** The API members a table entry names (none for inputs the provider does not send). */
export function apiPathsOf(field: FieldMap): string[] {
  if (typeof field === "string") return [field];
  if ("keyValueList" in field)
    return [`${field.keyValueList}[].${field.key}`, `${field.keyValueList}[].${field.value}`];
  if ("joined" in field) return [field.joined];
  if ("api" in field) return [field.api];
  return [];
}

/** The patterns a shape and what it holds (list members, map keys and values) apply. */
export function patternsUnder(models: AwsModels, service: string, shape: Shape, seen = new Set<Shape>()): string[] {
  if (seen.has(shape)) return [];
  seen.add(shape);
  const model = models.service(service);
  const child = (name: string): string[] => {
    const s = model.shapes[name];
    return s === undefined ? [] : patternsUnder(models, service, s, seen);
  };
  if (shape.type === "string") return shape.pattern === undefined ? [] : [shape.pattern];
  if (shape.type === "list") return child(shape.member.shape);
  if (shape.type === "map") return [...child(shape.key.shape), ...child(shape.value.shape)];
  return [];
}

// ---------------------------------------------------------------------------------------------
// The walk.

type ListShape = Extract<Shape, { type: "list" }>;
type MapShape = Extract<Shape, { type: "map" }>;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !isPulumiAsset(v);

function enumRule(shapeName: string, values: string[]): string {
  return values.length <= 12 ? `enum ${values.join("|")}` : `enum of ${shapeName} (${values.length} values)`;
}

/** `resource`'s inputs through its type's table entry, each value against its API member. */
export function checkResource(models: AwsModels, r: PlannedResource, placeholders: Set<string>): ResourceCheck {
  const table = AWS_API_MAP[r.type];
  if (table === undefined) throw new Error(`${r.type} is not in the AWS API table`);
  const { service, fields } = table;
  const result: ResourceCheck = { violations: [], unmapped: [], checked: 0, deployTime: 0 };
  const resource = `${r.type} ${r.name}`;
  const isDeployTime = (v: unknown): boolean =>
    (typeof v === "string" && (placeholders.has(v) || LOOKUP.test(v))) || isPulumiAsset(v);

  const report = (input: string, t: ApiTarget, rule: string, value: unknown): void => {
    result.violations.push({ resource, input, api: `${t.service} ${t.path}`, rule, value });
  };
  /** `n` (a length, a count or the value itself) against the shape's min and max. */
  const bounded = (input: string, t: ApiTarget, n: number, unit: string, value: unknown): void => {
    const { shape } = t;
    if (shape.type === "structure") return;
    if (shape.min !== undefined && n < shape.min) report(input, t, `${unit} ≥ ${shape.min}`, value);
    if (shape.max !== undefined && n > shape.max) report(input, t, `${unit} ≤ ${shape.max}`, value);
  };
  const target = (path: string): ApiTarget => resolveApiPath(models, service, path);
  /** A shape inside `of` (a list's member, a map's key or value), named for messages. */
  const inner = (of: ApiTarget, suffix: string, shapeName: string): ApiTarget => {
    const shape = models.service(service).shapes[shapeName];
    if (shape === undefined) throw new Error(`${service} has no shape ${shapeName}`);
    return { ...of, path: `${of.path}${suffix}`, shapeName, shape };
  };

  function checkScalar(input: string, value: unknown, t: ApiTarget): void {
    const { shape } = t;
    if (shape.type === "string") {
      if (typeof value !== "string") report(input, t, "type string", value);
      else {
        bounded(input, t, value.length, "length", value);
        if (shape.pattern !== undefined && !javaPattern(shape.pattern).test(value))
          report(input, t, `pattern ${shape.pattern}`, value);
        if (shape.enum !== undefined && !shape.enum.includes(value))
          report(input, t, enumRule(t.shapeName, shape.enum), value);
      }
    } else if (shape.type === "integer" || shape.type === "long") {
      if (typeof value !== "number" || !Number.isInteger(value)) report(input, t, "type integer", value);
      else bounded(input, t, value, "value", value);
    } else if (shape.type === "float" || shape.type === "double") {
      if (typeof value !== "number") report(input, t, "type number", value);
      else bounded(input, t, value, "value", value);
    } else if (shape.type === "boolean") {
      if (typeof value !== "boolean") report(input, t, "type boolean", value);
    }
    // blob and timestamp: the plan holds no such values but archives, which are deploy-time.
  }

  function checkList(input: string, key: string, value: unknown, t: ApiTarget, shape: ListShape): void {
    if (!Array.isArray(value)) {
      report(input, t, "type list", value);
      return;
    }
    bounded(input, t, value.length, "items", value);
    const element = fields[`${key}[]`];
    value.forEach((item: unknown, i) => {
      const at = `${input}[${i}]`;
      if (element !== undefined) apply(at, `${key}[]`, item, element);
      else if (isRecord(item)) walk(at, `${key}[]`, item);
      else validate(at, `${key}[]`, item, inner(t, "[]", shape.member.shape));
    });
  }

  function checkMap(input: string, key: string, value: unknown, t: ApiTarget, shape: MapShape): void {
    if (!isRecord(value)) {
      report(input, t, "type map", value);
      return;
    }
    const entries = Object.entries(value);
    bounded(input, t, entries.length, "entries", value);
    for (const [k, v] of entries) {
      validate(`${input}.${k} (key)`, key, k, inner(t, " key", shape.key.shape));
      validate(`${input}.${k}`, key, v, inner(t, " value", shape.value.shape));
    }
  }

  /** `value` (Pulumi `input`, table path `key`) against the API member `t`. */
  function validate(input: string, key: string, value: unknown, t: ApiTarget): void {
    if (isDeployTime(value)) {
      result.deployTime++;
      return;
    }
    result.checked++;
    const { shape } = t;
    if (shape.type === "list") checkList(input, key, value, t, shape);
    else if (shape.type === "map") checkMap(input, key, value, t, shape);
    else if (shape.type !== "structure") checkScalar(input, value, t);
    else if (isRecord(value)) walk(input, key, value);
    else report(input, t, "type structure", value);
  }

  /** A Pulumi map sent as a list of { key, value } structures. */
  function checkKeyValueList(
    input: string,
    key: string,
    value: unknown,
    field: { keyValueList: string; key: string; value: string },
  ): void {
    const list = target(field.keyValueList);
    if (!isRecord(value)) {
      report(input, list, "type map (sent as a list)", value);
      return;
    }
    if (list.shape.type !== "list") throw new Error(`${service} ${list.path} is not a list`);
    const item = inner(list, "[]", list.shape.member.shape);
    const keyRef = item.shape.type === "structure" ? item.shape.members[field.key] : undefined;
    const valueRef = item.shape.type === "structure" ? item.shape.members[field.value] : undefined;
    if (keyRef === undefined || valueRef === undefined)
      throw new Error(`${service} ${list.path}[] has no members ${field.key} and ${field.value}`);
    const entries = Object.entries(value);
    result.checked++;
    bounded(input, list, entries.length, "items", value);
    for (const [k, v] of entries) {
      validate(`${input}.${k} (key)`, key, k, inner(item, `.${field.key}`, keyRef.shape));
      validate(`${input}.${k}`, key, v, inner(item, `.${field.value}`, valueRef.shape));
    }
  }

  /** One input through its table entry. */
  function apply(input: string, key: string, value: unknown, field: FieldMap): void {
    if (typeof field === "string") validate(input, key, value, target(field));
    else if ("notSent" in field) return;
    else if ("perElement" in field) {
      if (!Array.isArray(value)) throw new Error(`${resource}: ${input} is mapped per element but is not a list`);
      value.forEach((item: unknown, i) => {
        walk(`${input}[${i}]`, `${key}[]`, item);
      });
    } else if ("api" in field) validate(input, key, field.convert(value), target(field.api));
    else if ("joined" in field) {
      if (!Array.isArray(value)) report(input, target(field.joined), "type list (sent joined)", value);
      else if (value.some(isDeployTime)) result.deployTime++;
      else validate(input, key, value.map(String).join(field.separator), target(field.joined));
    } else checkKeyValueList(input, key, value, field);
  }

  /** The children of an object at `input` (table path `key`): each needs its own entry. */
  function walk(input: string, key: string, value: unknown): void {
    if (!isRecord(value)) {
      result.unmapped.push(key);
      return;
    }
    for (const [name, child] of Object.entries(value)) {
      const childKey = key === "" ? name : `${key}.${name}`;
      const childInput = input === "" ? name : `${input}.${name}`;
      const field = fields[childKey];
      if (field !== undefined) apply(childInput, childKey, child, field);
      else if (isRecord(child)) walk(childInput, childKey, child);
      else result.unmapped.push(childKey);
    }
  }

  walk("", "", r.inputs);
  result.unmapped = [...new Set(result.unmapped)];
  return result;
}
