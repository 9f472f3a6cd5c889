export const MAIN_HELP = `vhdx — inspect, check and edit VHDX virtual hard disks

Usage: vhdx <command> [options]

Commands:
  info <image> [--json]                 headers, regions, metadata, BAT and log summary
  cat <image> [--offset N] [--length N] virtual disk bytes to stdout
  map <image> [--json]                  the file's layout: structures, blocks, free space, overlaps
  log <image> [--json]                  every log entry, the active sequence, what a replay would write
  replay <image>                        replay the log into the file and mark it empty

Sizes and offsets take K, M, G, T suffixes (binary) or 0x… hex.
Viewing never writes: a log that needs replay is replayed in memory only.
Run "vhdx <command> --help" for a command's options.
`;

export const COMMAND_HELP: Record<string, string> = {
  log: `Usage: vhdx log <image> [--json]

Lists every log entry found at any 4 KiB position of the ring (sequence number, tail,
length, descriptor count, LogGuid match, checksum, flushed and last file offsets, valid
or why not), the active sequence (§2.3.3), and the file ranges a replay would write with
the structure each lands in. Writes nothing. --json adds descriptors and the bytes
before and after each replayed range (hex).
`,
  replay: `Usage: vhdx replay <image>

Replays the active log sequence into the file (§2.3.3): a header update with a fresh
FileWriteGuid, every descriptor from the tail, growth to the head's LastFileOffset, a
flush, then LogGuid set to zero. A log whose LogGuid is set but that holds no valid
sequence is only marked empty.
`,
  info: `Usage: vhdx info <image> [--json]

Shows the disk type, sizes, both headers, the region table, metadata items, BAT state
counts and whether the log needs replay. --json prints the same as one JSON object.
`,
  cat: `Usage: vhdx cat <image> [--offset N] [--length N]

Writes virtual disk bytes to stdout, from --offset (default 0) for --length bytes
(default: to the end of the disk). Unallocated blocks read as zeros.
`,
  map: `Usage: vhdx map <image> [--json]

Lists every structure and allocated block of the file with its file range, the free
gaps between them, anything that overlaps, and anything past the end of the file.
`,
};
