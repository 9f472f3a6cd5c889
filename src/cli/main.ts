/** Entry of the `vhdx` command; the commands are wired in as they land. */
export async function main(argv: string[]): Promise<number> {
  process.stderr.write(`vhdx: no commands yet (${argv.join(" ")})\n`);
  return 2;
}
