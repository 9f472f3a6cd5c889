/**
 * The flags each `vhdx` command accepts. Kept apart from the commands so the command table can
 * parse arguments without loading any command's modules: each is loaded only when it runs.
 */
export type FlagSpec = Record<string, "bool" | "value">;

export const INFO_FLAGS = { json: "bool", help: "bool" } as const;
export const CAT_FLAGS = { offset: "value", length: "value", help: "bool" } as const;
export const MAP_FLAGS = { json: "bool", help: "bool" } as const;
export const CHECK_FLAGS = { json: "bool", repair: "bool", help: "bool" } as const;
export const LOG_FLAGS = { json: "bool", resize: "value", help: "bool" } as const;
export const REPLAY_FLAGS = { help: "bool" } as const;

export const CREATE_FLAGS = {
  size: "value",
  type: "value",
  parent: "value",
  "block-size": "value",
  "logical-sector": "value",
  "physical-sector": "value",
  "log-size": "value",
  help: "bool",
} as const;

export const WRITE_FLAGS = { offset: "value", input: "value", help: "bool" } as const;

export const CONVERT_FLAGS = {
  format: "value",
  type: "value",
  "block-size": "value",
  sync: "bool",
  help: "bool",
  subformat: "value",
  "keep-chain": "bool",
  parent: "value",
} as const;

export const MERGE_FLAGS = { help: "bool" } as const;

export const PARTITIONS_FLAGS = { json: "bool", help: "bool" } as const;
export const LS_FLAGS = { partition: "value", recursive: "bool", json: "bool", system: "bool", help: "bool" } as const;
export const GET_FLAGS = { partition: "value", output: "value", system: "bool", help: "bool" } as const;
export const RESIZE_FLAGS = { size: "value", force: "bool", "dry-run": "bool", help: "bool" } as const;
export const REPORT_FLAGS = { json: "bool", help: "bool" } as const;
