/**
 * Values a caller may pass as outputs of other resources (a VPC id made elsewhere in their
 * program, an image built in the same stack) where the pure layout needs plain text. The layout
 * sees a stand-in that its own rules accept; the resource gets the output, checked against the
 * same rule once its value is known.
 */
import * as pulumi from "@pulumi/pulumi";

interface Entry {
  value: pulumi.Input<string>;
  /** The setting's name, for the error. */
  key: string;
  /** undefined when the value is acceptable, else why not. */
  check: (value: string) => string | undefined;
}

export class Deferred {
  private readonly entries = new Map<string, Entry>();

  /**
   * `value` itself when it is plain text; otherwise a stand-in made by `standIn(n)` (unique per
   * value) for the layout, resolved by `input` and `resolve` when resources are declared.
   */
  plain(value: pulumi.Input<string>, key: string, standIn: (n: number) => string, check: Entry["check"]): string {
    if (typeof value === "string") return value;
    const text = standIn(this.entries.size);
    this.entries.set(text, { value, key, check });
    return text;
  }

  /** `text` with every stand-in in it replaced by its (checked) output. */
  input(text: string): pulumi.Input<string> {
    const found = [...this.entries.entries()].filter(([standIn]) => text.includes(standIn));
    if (found.length === 0) return text;
    return pulumi
      .all(found.map(([, entry]) => checked(entry)))
      .apply((values) => found.reduce((out, [standIn], i) => out.replaceAll(standIn, values[i] ?? ""), text));
  }

  /** A plain object with every string that holds a stand-in replaced by its output. */
  resolve<T>(data: T): pulumi.Input<T> {
    if (this.entries.size === 0) return data;
    const walk = (value: unknown): unknown => {
      if (typeof value === "string") return this.input(value);
      if (Array.isArray(value)) return value.map(walk);
      if (typeof value === "object" && value !== null)
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
      return value;
    };
    return walk(data) as pulumi.Input<T>;
  }
}

function checked(entry: Entry): pulumi.Output<string> {
  return pulumi.output(entry.value).apply((v) => {
    const problem = entry.check(v);
    if (problem !== undefined) throw new Error(`${entry.key}: ${problem}; got ${JSON.stringify(v)}`);
    return v;
  });
}
