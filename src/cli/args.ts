/** A small, strict argument parser: known flags only, values checked, errors become usage errors (exit 2). */
export class UsageError extends Error {}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

/** `spec` maps each long flag to "bool" or "value". */
export function parseArgs(argv: string[], spec: Record<string, "bool" | "value">): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const kind = spec[name];
      if (!kind) throw new UsageError(`unknown option --${name}`);
      if (kind === "bool") {
        if (eq >= 0) throw new UsageError(`--${name} takes no value`);
        flags.set(name, true);
      } else {
        const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`--${name} needs a value`);
        flags.set(name, v);
      }
    } else if (a.startsWith("-") && a !== "-") {
      if (a === "-h") flags.set("help", true);
      else if (a === "-R" && spec.recursive === "bool") flags.set("recursive", true);
      else throw new UsageError(`unknown option ${a}`);
    } else positionals.push(a);
  }
  return { positionals, flags };
}

const SUFFIX: Record<string, number> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Parses a byte count: decimal or 0x-hex, optionally with a K, M, G or T suffix (binary units). */
export function parseSize(text: string, what: string): number {
  const m = /^(0x[0-9a-fA-F]+|\d+)([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!m)
    throw new UsageError(
      `${what} must be a number of bytes, optionally with K, M, G or T (got ${JSON.stringify(text)})`,
    );
  const n = Number(m[1]) * SUFFIX[m[2].toUpperCase()];
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what} ${text} is too large`);
  return n;
}

export function flagString(a: ParsedArgs, name: string): string | undefined {
  const v = a.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

export function oneImage(a: ParsedArgs, command: string): string {
  if (a.positionals.length !== 1)
    throw new UsageError(`${command} takes exactly one image (see vhdx ${command} --help)`);
  return a.positionals[0];
}
