/** The server's messages: access log on stdout, problems on stderr. */

export interface Logger {
  access(method: string, url: string, status: number, ms: number): void;
  info(message: string): void;
  error(message: string): void;
}

/** Logger writing to the process streams; `quiet` drops the access log. */
export function createLogger(quiet: boolean): Logger {
  return {
    access(method, url, status, ms) {
      if (!quiet) process.stdout.write(`${method} ${url} ${status} ${ms.toFixed(1)}ms\n`);
    },
    info(message) {
      process.stdout.write(message + '\n');
    },
    error(message) {
      process.stderr.write(message + '\n');
    },
  };
}

/** The one line printed once the server listens (SPEC §1). */
export function bannerLine(root: string, url: string, production: boolean, workers = 1): string {
  const mode = production ? 'production' : 'development, live reload';
  return `karrigell-ts: serving ${root} at ${url} (${mode}${workers > 1 ? `, ${workers} workers` : ''})`;
}
