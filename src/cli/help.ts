export const MAIN_HELP = `vhdx — inspect, check and edit VHDX virtual hard disks

Usage: vhdx <command> [options]

Commands:
  info <image> [--json]                 headers, regions, metadata, BAT and log summary
  cat <image> [--offset N] [--length N] virtual disk bytes to stdout
  map <image> [--json]                  the file's layout: structures, blocks, free space, overlaps
  check <image> [--json] [--repair]     every rule of the format, findings with codes and offsets
  log <image> [--json]                  every log entry, the active sequence, what a replay would write
  log <image> --resize SIZE             give the log SIZE bytes (1M–4095M), moving it if it must
  replay <image>                        replay the log into the file and mark it empty
  create <image> --size S [--type T]    a new dynamic, fixed or differencing (--parent P) image
  write <image> --offset N [--input F]  an atomic patch of virtual disk bytes from a file or stdin
  convert <input> <output>              raw ↔ VHDX, VHDX → VHDX compacted, VHD ↔ VHDX
  merge <child>                         fold a differencing image into its parent
  partitions <image> [--json]           the disk's GPT or MBR partitions and the file system in each
  ls <image> [PATH] [-R] [--json]       list a directory of a file system on the disk (FAT12/16/32)
  get <image> PATH [--output FILE]      a file's bytes from a file system on the disk
  resize <image> --size S [--force]     a new virtual disk size, all or nothing through the log
  report <image> [--json]               SHA-256, structures, log, replay changes and check findings in one report

Sizes and offsets take K, M, G, T suffixes (binary) or 0x… hex.
Viewing never writes: a log that needs replay is replayed in memory only.
Run "vhdx <command> --help" for a command's options.
`;

export const COMMAND_HELP: Record<string, string> = {
  resize: `Usage: vhdx resize <image> --size S [--force] [--dry-run]

Gives the virtual disk S bytes (K, M, G, T suffixes; a multiple of the logical sector
size, at least one sector, at most 64T) on fixed, dynamic and differencing images. One
log entry switches the BAT entries, the Virtual Disk Size item and, when the BAT needs
more entries than its region holds, both region table copies naming a grown or moved
BAT region: a crash leaves the image as it was or resized. A fixed image's new blocks are
allocated (zeros); grown space reads as zeros (on a differencing image, as its parent
where the parent reaches). A shrink is refused while the image holds data past the new
end (the error names the first offset); --force drops it. Partitions and file systems
inside are not changed: a shrink that cuts one is warned about. --dry-run prints what
would change and writes nothing.
`,
  report: `Usage: vhdx report <image> [--json]

Everything the engine knows about the file in one report: the file's SHA-256, its headers,
regions, metadata, BAT entry counts by state, every log entry with its verdict, what a replay
would change (decoded), and the checker's findings. Markdown by default; --json gives the same
JSON document the editor's Report export saves. Nothing is written; a pending log is described,
not applied.
`,
  log: `Usage: vhdx log <image> [--json]
       vhdx log <image> --resize SIZE

Lists every log entry found at any 4 KiB position of the ring (sequence number, tail,
length, descriptor count, LogGuid match, checksum, flushed and last file offsets, valid
or why not), the active sequence (§2.3.3), and the file ranges a replay would write with
the structure each lands in. Writes nothing. --json adds descriptors and the bytes
before and after each replayed range (hex).

--resize SIZE gives the log SIZE bytes (a multiple of 1M, 1M–4095M): in place when it
shrinks or the space after it is free, else moved to free space or the end of the file.
The log is empty between commits, so the new LogOffset and LogLength go in through the
header update protocol alone: a crash leaves the old log or the new one. Merges and
writes grow the log by themselves when one log entry would not fit (said on stderr).
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
(default: to the end of the disk). Unallocated blocks read as zeros; on a differencing
disk, blocks and sectors it does not hold read from its parents, found through its parent
locator (relative_path, then absolute_win32_path) and opened read-only.
`,
  map: `Usage: vhdx map <image> [--json]

Lists every structure and allocated block of the file with its file range, the free
gaps between them, anything that overlaps, and anything past the end of the file.
`,
  check: `Usage: vhdx check <image> [--json] [--repair]

Checks headers, region tables, the log, metadata items, the BAT and the layout of every
structure and block, and lists each finding as error, warning or info with its code
(see docs/errors.md), the structure and the file offset. Exit status 0 when there is no
error, 1 when there is. --json prints { "ok": …, "findings": [...] }.

Nothing is written unless --repair is given. --repair then makes only the safe repairs,
each through the log or the header update protocol, lists what each wrote, and checks
the file again: replay a log that needs it, rewrite a damaged header from the good one,
rewrite a damaged region table copy from the good one.
`,
  create: `Usage: vhdx create <image> --size S [--type dynamic|fixed|differencing] [--parent P]
                   [--block-size B] [--logical-sector 512|4096] [--physical-sector 512|4096] [--log-size L]

Creates a new image; an existing file is never overwritten. Dynamic (the default) starts
empty, fixed has every block allocated, differencing (implied by --parent) takes its size
and sector sizes from the parent and records where the parent is (relative and absolute
paths) and its DataWriteGuid. Block size 1M–256M, a power of two (default 32M); log size
a multiple of 1M (default 1M); virtual size up to 64T, a multiple of the logical sector.
`,
  write: `Usage: vhdx write <image> --offset N [--input FILE]

Writes the bytes of FILE (or stdin) into the virtual disk at offset N as one atomic patch:
each touched block is copied with the new bytes to free space, then one log entry switches
them all. A power cut leaves either the old or the new contents, never a mix.
FILE may be a pipe, a FIFO, /dev/stdin or a block device; an empty input is an error.
`,
  convert: `Usage: vhdx convert <input> <output> [--format raw|vhdx|vhd] [--type dynamic|fixed] [--block-size B] [--sync]
       vhdx convert <input> <output.vhd> [--subformat fixed|dynamic]
       vhdx convert <child.vhd> <child.vhdx> --keep-chain | --parent <parent.vhdx>

Converts a raw disk image to VHDX, a VHDX image (with its parent chain) to raw, or a VHDX
image to a new compacted VHDX (free space and all-zero blocks dropped). The format follows
the output name (.vhdx) unless --format says otherwise; raw output keeps zero runs as holes.
The output must not exist yet. As with qemu-img convert, the output is left to the operating
system to write back; --sync flushes it to disk before the command ends. The VHDX header
section is written last, so an interrupted conversion never leaves a file that opens.
The input may be a block device (a disk, a partition: physical to virtual), not a pipe.
The output is written under a hidden temporary name and named only once whole.
A VHD (v1) input (fixed, dynamic, or differencing with its parents, flattened) converts the same
way. A .vhd output (or --format vhd) is a VHD, dynamic unless --subformat fixed; a VHD holds at
most 2040 GiB, and a larger disk is refused before anything is written.
A differencing VHD stays a differencing VHDX with --keep-chain: every link is converted (the
base to a dynamic or --type fixed VHDX, each child to a differencing VHDX holding only its own
sectors), the parents named as their VHDs with .vhdx in the output's folder; all or none of
them are written. --parent P.vhdx converts the child alone over an existing VHDX, after checking
that P reads byte for byte as the VHD's parent.
`,
  merge: `Usage: vhdx merge <child>

Folds a differencing image into its parent: every sector the child holds is written into
the parent, and the child's virtual-disk metadata replaces the parent's. The parent gets
a new DataWriteGuid, so the child no longer opens on top of it afterwards. All or nothing:
until the merge commits, the parent reads as before and the child (told of the merge)
still opens over it. A child that cannot be written is merged and left as it was.
`,
  partitions: `Usage: vhdx partitions <image> [--json]

Lists the volumes of the virtual disk (a VHDX, through its differencing chain, or a raw
disk image): GPT partitions (both headers and entry arrays checked, the backup used when
the primary is damaged), MBR partitions (1–4 primary, 5 onwards logical, as Linux numbers
them), or the whole disk when a file system starts at offset 0. For each: number, start,
size, type, GPT name, and the file system its signature names. Writes nothing.
`,
  ls: `Usage: vhdx ls <image> [PATH] [--partition N] [--recursive|-R] [--json] [--system]

Lists the directory PATH ("/"-separated, default the root) of the file system on the disk,
or the one entry when PATH is a file. On a disk with more than one file system, --partition
picks one (exit 2 with the list otherwise). --json prints an array of
{ path, name, type, size, mtime, target? }: path from the root without a leading slash,
type file, dir, symlink or other, mtime ISO 8601 (without a zone where the file system
keeps local time, as FAT does). A path that does not exist: exit 1. NTFS metafiles ($MFT,
$LogFile, $Bitmap …) are listed only with --system; alternate data streams are listed as
name:stream and can be read with get.
`,
  get: `Usage: vhdx get <image> PATH [--partition N] [--output FILE] [--system]

Writes the bytes of the file PATH to stdout, or to FILE, streamed a few megabytes at a time
(holes are written without being read). FILE must not exist yet: it is written under a
temporary name beside it and appears whole or not at all.
`,
};
