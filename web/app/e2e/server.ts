// A real `chronicle serve` on a free port with a fresh data directory,
// stopped by its PID: each test gets its own.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CHRONICLE = process.env.CHRONICLE_BIN ?? join(REPO, ".venv/bin/chronicle");

export interface Server {
  url: string;
  stop(): Promise<void>;
  log: string;
  /** Run the `chronicle` command line against this server's data directory. */
  cli(...args: string[]): { status: number | null; stdout: string; stderr: string };
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

const ENV = {
  ...process.env,
  // The checkout's own code first, whichever virtualenv runs it.
  PYTHONPATH: [REPO, process.env.PYTHONPATH].filter(Boolean).join(":"),
  CHRONICLE_ARGON2_TIME_COST: "1",
  CHRONICLE_ARGON2_MEMORY_COST_KIB: "8192",
  CHRONICLE_ACCESS_LOG: "false",
  CHRONICLE_LOGIN_MAX_FAILURES: "1000",
};

export interface ServerOptions {
  /** Write this many generated events into the log before the server starts (e2e/seed_log.py). */
  seedEvents?: number;
}

export async function startServer(options: ServerOptions = {}): Promise<Server> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "chronicle-web-e2e-"));
  const data = join(dataDir, "data");
  const log = join(dataDir, "server.log");
  const out = openSync(log, "a");
  if (options.seedEvents) {
    const python = join(dirname(CHRONICLE), "python");
    const seeded = spawnSync(python, [join(REPO, "web/app/e2e/seed_log.py"), data, String(options.seedEvents)], {
      cwd: REPO, env: ENV, encoding: "utf8", timeout: 240_000,
    });
    if (seeded.status !== 0) throw new Error(`seeding the log failed: ${seeded.stderr}`);
  }
  const cli = (...args: string[]) => {
    const run = spawnSync(CHRONICLE, [...args, "--data-dir", data], { cwd: REPO, env: ENV, encoding: "utf8", timeout: 60_000 });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };
  const child: ChildProcess = spawn(
    CHRONICLE,
    ["serve", "--host", "127.0.0.1", "--port", String(port), "--data-dir", data],
    { cwd: REPO, env: ENV, stdio: ["ignore", out, out] },
  );
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const stop = async () => {
    if (!exited && child.pid) {
      const gone = new Promise<void>((done) => child.once("exit", () => done()));
      process.kill(child.pid, "SIGTERM");
      const timer = setTimeout(() => child.pid && !exited && process.kill(child.pid, "SIGKILL"), 10_000);
      await gone;
      clearTimeout(timer);
    }
    if (!process.env.KEEP_E2E_DATA) rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`chronicle serve exited at start; see ${log}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, stop, log, cli };
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 150));
  }
  await stop();
  throw new Error(`chronicle serve was not ready within 60 s (${CHRONICLE})`);
}
