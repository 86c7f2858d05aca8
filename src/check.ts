/** `karrigell-ts check [ROOT]`: type-checks every script of the site (SPEC §1, §4). */

/** Type-checks ROOT; resolves to the exit status (0 clean, 1 errors). */
export async function runCheck(root = 'www', watch = false): Promise<number> {
  process.stderr.write(`karrigell-ts: check ${root}${watch ? ' --watch' : ''}: not available yet\n`);
  return 1;
}
