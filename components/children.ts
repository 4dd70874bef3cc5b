/**
 * How a component names, parents and tags its children. Names are `${component}-${local}`, so two
 * components in one stack never collide; a stack created before names carried that prefix aliases
 * the old ones, so a rename is an update, never a replacement.
 */
import type * as pulumi from "@pulumi/pulumi";

export interface ChildrenOptions {
  /** The component's own name: every child's name starts with it. */
  component: string;
  parent: pulumi.Resource;
  /** Alias each child to its name from before the prefix (stacks created then). @default false */
  aliasUnprefixed?: boolean;
  /** The caller's tags, merged under ours (ours select volumes for backups and must win). @default none */
  tags?: Record<string, string>;
}

export class Children {
  constructor(private readonly options: ChildrenOptions) {}

  get parent(): pulumi.Resource {
    return this.options.parent;
  }

  /** A child's logical name and options: parented here, aliased to its old name when asked. */
  named<O extends pulumi.CustomResourceOptions>(local: string, opts?: O): { name: string; opts: O } {
    const aliases = [...(opts?.aliases ?? []), ...(this.options.aliasUnprefixed === true ? [{ name: local }] : [])];
    return {
      name: `${this.options.component}-${local}`,
      opts: { ...opts, parent: this.options.parent, ...(aliases.length === 0 ? {} : { aliases }) } as O,
    };
  }

  /** A child named `local` (prefixed, aliased when asked), made by `make` with its name and options. */
  make<T, O extends pulumi.CustomResourceOptions>(local: string, opts: O, make: (name: string, opts: O) => T): T {
    const named = this.named(local, opts);
    return make(named.name, named.opts);
  }

  /** A name for people (a `Name` tag): `${component}-${local}`, so two topologies tell apart. */
  label(local: string): string {
    return `${this.options.component}-${local}`;
  }

  /** The caller's tags with ours on top. */
  tags(ours: Record<string, string>): Record<string, string> {
    return { ...this.options.tags, ...ours };
  }

  /** The tags of a resource that carries ours under the caller's, as its `tags` input. */
  tagged(ours: Record<string, string>): { tags: Record<string, string> } {
    return { tags: this.tags(ours) };
  }
}
