/**
 * The container image under test, built where no image registry is reachable: podman, buildah
 * and debootstrap from Debian's packages (installed here when absent), a base image made from a
 * minimal Debian with this machine's Node.js and npm, the project's Dockerfile built on it, and
 * containers run with `buildah run --isolation chroot` (`podman run` needs cgroups this machine
 * lacks). Chroot isolation shares the host's network, so a container's server listens on a
 * loopback port of this machine.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./server.js";

const TOOLS = { podman: "podman", buildah: "buildah", debootstrap: "debootstrap" };
/** The Debian release of the machine this kind of runner is (bookworm), for the base image. */
const SUITE = "bookworm";
const MIRROR = "http://deb.debian.org/debian";

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function command(file: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): CommandResult {
  const result = spawnSync(file, args, {
    encoding: "utf8",
    input: options.input,
    timeout: options.timeoutMs ?? 600_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? String(result.error ?? "") };
}

function mustRun(file: string, args: string[]): string {
  const result = command(file, args);
  if (result.status !== 0) throw new Error(`${file} ${args.join(" ")} failed (${result.status}): ${result.stderr.trim().slice(-2000)}`);
  return result.stdout;
}

/** Installs podman, buildah and debootstrap when one is missing (as root, or passwordless sudo). */
export function ensureContainerTools(): void {
  const missing = Object.values(TOOLS).filter((tool) => command("sh", ["-c", `command -v ${tool}`]).status !== 0);
  if (missing.length === 0) return;
  const asRoot = process.getuid?.() === 0;
  // another test may be installing its own packages (Chromium) at the same moment: wait for dpkg's lock
  const apt = (args: string[]) => {
    const argv = ["-o", "DPkg::Lock::Timeout=600", ...args];
    return asRoot ? mustRun("apt-get", argv) : mustRun("sudo", ["-n", "apt-get", ...argv]);
  };
  apt(["update"]);
  apt(["install", "-y", ...Object.values(TOOLS)]);
}

/**
 * A Debian image with this machine's Node.js, npm and npm settings (the registry's CA among them),
 * tagged by the Node version and made once per machine.
 */
export function nodeBaseImage(): string {
  const tag = `localhost/lgts-test-node-base:${process.versions.node}`;
  if (command(TOOLS.podman, ["image", "exists", tag]).status === 0) return tag;
  const dir = mkdtempSync(path.join(tmpdir(), "lgts-base-"));
  const rootfs = path.join(dir, "rootfs");
  try {
    mustRun(TOOLS.debootstrap, ["--variant=minbase", SUITE, rootfs, MIRROR]);
    rmSync(path.join(rootfs, "var/cache/apt/archives"), { recursive: true, force: true });
    cpSync(process.execPath, path.join(rootfs, "usr/bin/node"));
    const npmDir = path.resolve(path.dirname(process.execPath), "../lib/node_modules/npm");
    cpSync(npmDir, path.join(rootfs, "usr/lib/node_modules/npm"), { recursive: true });
    symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", path.join(rootfs, "usr/bin/npm"));
    symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", path.join(rootfs, "usr/bin/npx"));
    for (const file of ["/etc/ssl/certs/ca-certificates.crt", "/usr/etc/npmrc", "/etc/npmrc"]) {
      if (!existsSync(file)) continue;
      mkdirSync(path.join(rootfs, path.dirname(file)), { recursive: true });
      cpSync(file, path.join(rootfs, file));
    }
    mustRun("sh", ["-c", `tar -C '${rootfs}' -c . | ${TOOLS.podman} import - '${tag}'`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}

/** Builds the project's Dockerfile on `baseImage` (layers are cached between runs). */
export function buildServerImage(baseImage: string, tag = "localhost/lgts-test:latest"): string {
  mustRun(TOOLS.podman, [
    "build",
    "--isolation",
    "chroot",
    // Docker's format keeps HEALTHCHECK, which the OCI format has no field for
    "--format",
    "docker",
    "--build-arg",
    `BASE_IMAGE=${baseImage}`,
    "--tag",
    tag,
    REPO_ROOT,
  ]);
  return tag;
}

/**
 * An image of a user's project built FROM the server image, as the README shows: the project
 * copied into /project, owned by the server's user.
 */
export function buildProjectImage(serverImage: string, projectDir: string, tag = "localhost/lgts-test-project:latest"): string {
  const dir = mkdtempSync(path.join(tmpdir(), "lgts-project-image-"));
  try {
    const containerfile = path.join(dir, "Containerfile");
    writeFileSync(containerfile, `FROM ${serverImage}\nCOPY --chown=10001:10001 . /project\n`);
    mustRun(TOOLS.podman, ["build", "--isolation", "chroot", "--format", "docker", "--file", containerfile, "--tag", tag, projectDir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}

export interface ImageConfig {
  User: string;
  Entrypoint: string[];
  Cmd: string[];
  Env: string[];
  ExposedPorts?: Record<string, unknown>;
  /** podman reports HEALTHCHECK beside the config, not in it */
  Healthcheck?: { Test: string[] };
}

export function inspectImage(tag: string): ImageConfig {
  const [image] = JSON.parse(mustRun(TOOLS.podman, ["image", "inspect", tag])) as { Config: ImageConfig; Healthcheck?: { Test: string[] } }[];
  return { ...image.Config, ...(image.Healthcheck ? { Healthcheck: image.Healthcheck } : {}) };
}

export interface Container {
  /** The running command's process (the container's main process is its child). */
  process: ChildProcess;
  output(): string;
  /** Runs another command in the same container's filesystem. */
  exec(args: string[], env?: Record<string, string>): CommandResult;
  /** Signals the command and waits for the container's exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  remove(): void;
}

function envArgs(env: Record<string, string>): string[] {
  return Object.entries(env).flatMap(([name, value]) => ["--env", `${name}=${value}`]);
}

/** Runs a command in a new container of `image` (its entrypoint not started), then removes it. */
export function runInImage(image: string, args: string[]): CommandResult {
  const name = mustRun(TOOLS.buildah, ["from", image]).trim();
  try {
    return command(TOOLS.buildah, ["run", "--isolation", "chroot", name, "--", ...args]);
  } finally {
    command(TOOLS.buildah, ["rm", name]);
  }
}

/**
 * A container of `image` running its entrypoint and command; `volumes` as `-v` takes them
 * (`host:container[:ro]`).
 */
export function runContainer(image: string, env: Record<string, string>, volumes: string[] = []): Container {
  const name = mustRun(TOOLS.buildah, ["from", image]).trim();
  const config = inspectImage(image);
  const argv = [...config.Entrypoint, ...config.Cmd];
  const mounts = volumes.flatMap((volume) => ["--volume", volume]);
  // a process group of its own: `buildah run` does not pass signals on, and the container's
  // process (under buildah-chroot-exec) outlived it; stop() signals the whole group
  const child = spawn(TOOLS.buildah, ["run", "--isolation", "chroot", ...envArgs(env), ...mounts, name, "--", ...argv], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    process: child,
    output: () => output,
    exec: (execArgs, execEnv = {}) => command(TOOLS.buildah, ["run", "--isolation", "chroot", ...envArgs(execEnv), name, "--", ...execArgs]),
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, signal);
      return exited;
    },
    remove: () => void command(TOOLS.buildah, ["rm", name]),
  };
}
