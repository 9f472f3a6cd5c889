/**
 * The output name of a job that writes into browser storage. The worker says what is at the
 * name (outputCheck); a default name the user has not touched moves on to the first free one
 * ("converted (2).vhdx"), a name the user typed that is taken must be agreed to be replaced, and a
 * name that is open in the editor or is the job's input cannot be used at all.
 */
import { useEffect, useState } from "react";
import type { OutputCheck } from "../../worker/browserStorage";
import { engineClient } from "../store/engineConnection";
import { safeName, type Destination } from "./jobStore";
import { OPFS_DIR } from "./pickers";

export type { OutputCheck };

export interface OutputName {
  dest: Destination;
  setDest(d: Destination): void;
  /** The name shown and used (a taken default already moved on to a free one). */
  name: string;
  setName(n: string): void;
  /** What is at the name in browser storage; null for a picked file or while it is being asked. */
  check: OutputCheck | null;
  replace: boolean;
  setReplace(r: boolean): void;
  /** Why the job cannot start with this name, in words; null when it can. */
  problem: string | null;
  /** The OPFS path the job writes (for dest "opfs"). */
  path: string;
}

const baseName = (p: string) => p.split("/").pop() ?? p;

/**
 * `initial` is the default name; `format` its extension; `refreshKey` changes when files in
 * browser storage may have changed (a job finished, a file was opened).
 */
export function useOutputName(initial: string, format: "vhdx" | "raw" | "vhd", refreshKey: unknown): OutputName {
  const [dest, setDest] = useState<Destination>("opfs");
  const [typed, setTyped] = useState<string | null>(null);
  // The agreement to replace holds for the one path it was given for, not for a name typed after.
  const [replaceFor, setReplaceFor] = useState<string | null>(null);
  const [check, setCheck] = useState<OutputCheck | null>(null);
  const ext = format === "vhdx" ? ".vhdx" : format === "vhd" ? ".vhd" : ".img";
  const asked = safeName(typed ?? initial, ext);
  const askedPath = `${OPFS_DIR}/${asked}`;
  const replace = replaceFor === askedPath;

  useEffect(() => {
    const client = engineClient();
    if (dest !== "opfs" || !client) {
      setCheck(null);
      return;
    }
    let live = true;
    client.outputCheck(askedPath).then(
      (c) => live && setCheck(c),
      () => live && setCheck(null),
    );
    return () => {
      live = false;
    };
  }, [askedPath, dest, refreshKey]);

  const current = check && check.path === askedPath ? check : null;
  // An untouched default never points at a taken file: it becomes the first free name.
  const useSuggestion = typed === null && current !== null && current.exists;
  const name = useSuggestion ? baseName(current.suggestion) : typed === null ? initial : typed;
  const path = useSuggestion ? current.suggestion : askedPath;
  const taken = !useSuggestion && current?.exists ? current : null;
  const problem =
    dest !== "opfs" || !taken
      ? null
      : taken.inUse
        ? `${asked} cannot be written: ${taken.inUse}; choose another name`
        : replace
          ? null
          : `${asked} already exists in browser storage; choose another name or agree to replace it`;

  return {
    dest,
    setDest,
    name,
    setName: setTyped,
    check: taken,
    replace,
    setReplace: (r) => setReplaceFor(r ? askedPath : null),
    problem,
    path,
  };
}
