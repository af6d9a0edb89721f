import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// What every process started in a namespace gets: a PATH and nothing else, no proxy setting in
// particular, whatever the test runner's own environment holds.
const PROCESS_ENV = { PATH: process.env.PATH };

/** What a command run in a namespace printed, and how it ended. */
export type CommandResult = { status: number; stdout: string; stderr: string };

// What the namespace tests run: iproute2 for the namespaces, iptables for the rules.
const REQUIRED_TOOLS = ['ip', 'iptables', 'iptables-save', 'iptables-restore', 'setpriv'];

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Why this process may not make network namespaces (not root, or a container without
 * CAP_SYS_ADMIN: the test is skipped), or undefined when it may. A missing tool is not a reason to
 * skip but a broken test machine: it throws, naming the tools and how to install them.
 */
export function networkNamespaceProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: network namespaces need CAP_SYS_ADMIN';

  const missing = REQUIRED_TOOLS.filter((tool) => !onPath(tool));
  if (missing.length > 0) {
    throw new Error(
      `network namespace tests need ${missing.join(', ')} on PATH: install iproute2 and ` +
        'iptables (test/ground/install-debian.sh does; setpriv is in util-linux)',
    );
  }

  const probe = `mtls-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
  } catch (err) {
    const said = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    if (/Operation not permitted|Permission denied/i.test(said)) {
      return `ip netns add is not permitted here: ${said}`;
    }
    throw new Error(`ip netns add failed: ${said || (err as Error).message}`, { cause: err });
  }
  execFileSync('ip', ['netns', 'delete', probe], { stdio: 'pipe' });
  return undefined;
}

/**
 * A network namespace made by a test, with its own /etc/hosts (ip netns exec bind-mounts
 * /etc/netns/<name>/hosts over /etc/hosts for what it runs). Everything is gone after delete().
 */
export class NetworkNamespace {
  private readonly children = new Set<ChildProcess>();

  private constructor(readonly name: string) {}

  /** Adds a namespace with its loopback interface up. */
  static add(name: string): NetworkNamespace {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
    const namespace = new NetworkNamespace(name);
    namespace.ip('link', 'set', 'lo', 'up');
    return namespace;
  }

  /** Runs `ip -n <name> ...`. */
  ip(...args: string[]): void {
    execFileSync('ip', ['-n', this.name, ...args], { stdio: 'pipe' });
  }

  /** The /etc/hosts of programs this namespace runs. */
  writeHosts(entries: Record<string, string>): void {
    const lines = Object.entries(entries).map(([host, address]) => `${address} ${host}`);
    mkdirSync(this.etcDir(), { recursive: true });
    writeFileSync(path.join(this.etcDir(), 'hosts'), `127.0.0.1 localhost\n${lines.join('\n')}\n`);
  }

  /** Runs a command in the namespace to its end; a failure is a result, not an exception. */
  async exec(command: string[]): Promise<CommandResult> {
    try {
      const { stdout, stderr } = await run('ip', ['netns', 'exec', this.name, ...command], {
        env: PROCESS_ENV,
      });
      return { status: 0, stdout, stderr };
    } catch (err) {
      const failure = err as { code?: unknown; stdout?: string; stderr?: string };
      if (typeof failure.code !== 'number') throw err;
      return { status: failure.code, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
    }
  }

  /**
   * Starts a long-running process in the namespace and resolves once it prints a line matching
   * `ready` (on stdout or stderr); rejects with what it printed if it exits first.
   */
  start(command: string[], ready: RegExp): Promise<ChildProcess> {
    const child = spawn('ip', ['netns', 'exec', this.name, ...command], {
      stdio: 'pipe',
      env: PROCESS_ENV,
    });
    this.children.add(child);

    return new Promise((resolve, reject) => {
      let printed = '';
      const what = command.join(' ');
      const deadline = setTimeout(
        () => reject(new Error(`${what} was not ready within 30s:\n${printed}`)),
        30_000,
      );
      const look = (chunk: Buffer): void => {
        printed += chunk.toString();
        if (!ready.test(printed)) return;
        clearTimeout(deadline);
        resolve(child);
      };
      child.stdout?.on('data', look);
      child.stderr?.on('data', look);
      child.on('error', reject);
      child.on('exit', (status) => {
        clearTimeout(deadline);
        reject(new Error(`${what} exited (${status}) before it was ready:\n${printed}`));
      });
    });
  }

  /** Stops what it started, then removes the namespace and its /etc/netns folder. */
  async delete(): Promise<void> {
    await Promise.all([...this.children].map(stop));
    this.children.clear();
    rmSync(this.etcDir(), { recursive: true, force: true });
    execFileSync('ip', ['netns', 'delete', this.name], { stdio: 'pipe' });
  }

  private etcDir(): string {
    return path.join('/etc/netns', this.name);
  }
}

/** Joins two namespaces by a veth pair, each end up with its address (`10.1.2.1/30`). */
export function joinByVeth(
  a: { namespace: NetworkNamespace; device: string; address: string },
  b: { namespace: NetworkNamespace; device: string; address: string },
): void {
  a.namespace.ip(
    'link',
    'add',
    a.device,
    'type',
    'veth',
    'peer',
    'name',
    b.device,
    'netns',
    b.namespace.name,
  );
  for (const end of [a, b]) {
    end.namespace.ip('addr', 'add', end.address, 'dev', end.device);
    end.namespace.ip('link', 'set', end.device, 'up');
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
}
