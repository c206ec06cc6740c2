import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { BaseLogger } from 'pino';
import { ExportError } from '../errors.js';

const INSTALL_HINT = 'Install ffmpeg (Debian/Ubuntu: apt-get install -y ffmpeg) or set FFMPEG_PATH to an ffmpeg executable';
/** How much of ffmpeg's stderr a failure reports (its last lines say what went wrong). */
const STDERR_TAIL = 2000;

/** The ffmpeg to run: FFMPEG_PATH when set, else `ffmpeg` as the process's PATH finds it. */
export const ffmpegCommand = (configured: string | undefined): string => configured || 'ffmpeg';

const missing = (command: string) =>
  command === 'ffmpeg' ? `No ffmpeg to encode videos with: ffmpeg is not on PATH. ${INSTALL_HINT}.` : `No ffmpeg to encode videos with: FFMPEG_PATH=${command} cannot be run. ${INSTALL_HINT}.`;

const isMissing = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'EACCES';
};

/**
 * For start-up: runs `ffmpeg -version` and logs which ffmpeg videos are encoded with, or a warning saying what to
 * install or set. Video exports still run without one and fail with the same words.
 */
export async function checkFfmpeg(configured: string | undefined, log: Pick<BaseLogger, 'info' | 'warn'>): Promise<boolean> {
  const command = ffmpegCommand(configured);
  try {
    const child = spawn(command, ['-hide_banner', '-version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const [code] = (await once(child, 'close')) as [number | null];
    if (code !== 0) throw new Error(`exited with ${code}`);
    log.info({ ffmpeg: command, version: out.split('\n', 1)[0] }, 'recording videos encode with this ffmpeg');
    return true;
  } catch (error) {
    log.warn(`${isMissing(error) ? missing(command) : `No ffmpeg to encode videos with: ${command} -version failed (${String(error)}). ${INSTALL_HINT}.`} Video and GIF exports of recordings will fail until then.`);
    return false;
  }
}

export interface FfmpegRun {
  /** ffmpeg's stdin. */
  readonly stdin: ChildProcessWithoutNullStreams['stdin'];
  /** Settles when ffmpeg exits: rejects with an ExportError when it could not start or exited with an error. */
  readonly done: Promise<void>;
  /** Stops ffmpeg at once (SIGKILL). */
  kill(): void;
}

/**
 * Starts ffmpeg with `args`, reading from its stdin. A missing ffmpeg rejects `done` with an ExportError saying what
 * to install; aborting the signal kills it.
 */
export function startFfmpeg(configured: string | undefined, args: string[], signal: AbortSignal): FfmpegRun {
  const command = ffmpegCommand(configured);
  const child = spawn(command, ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], { stdio: ['pipe', 'ignore', 'pipe'] }) as unknown as ChildProcessWithoutNullStreams;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL)));
  // A write after ffmpeg died (or never started) is reported through `done`, not as an unhandled error.
  child.stdin.on('error', () => undefined);
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  signal.addEventListener('abort', kill, { once: true });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(isMissing(error) ? new ExportError(missing(command)) : error));
    child.once('close', (code, killedBy) => {
      if (code === 0) resolve();
      else reject(new ExportError(`ffmpeg failed (${killedBy ?? `exit code ${code}`}): ${stderr.trim() || 'no message'}`));
    });
  }).finally(() => signal.removeEventListener('abort', kill));
  return { stdin: child.stdin, done, kill };
}
