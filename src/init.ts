/** `karrigell-ts init [DIR]`: a ready site, never overwriting a file (SPEC §1). */

/** Creates the site; resolves to the exit status. */
export async function runInit(dir = 'www'): Promise<number> {
  process.stderr.write(`karrigell-ts: init ${dir}: not available yet\n`);
  return 1;
}
