#!/usr/bin/env node
// Loa first boot: installs what `loa devices provision` put on the SD card's FAT boot partition
// (loa-firstboot.json) into /etc/loa, owned by the agent's user with mode 0600, removes it from the boot
// partition (readable by anyone holding the card), sets the host name and enables the agent.
// Plain Node, no dependencies: it runs before anything else of Loa is configured. See firmware-images/README.md.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const env = process.env
const BOOT_DIRS = (env.LOA_BOOT_DIRS ?? '/boot/firmware:/boot').split(':')
const ETC = env.LOA_ETC_DIR ?? '/etc/loa'
const OWNER = env.LOA_FIRSTBOOT_OWNER ?? 'loa'
const SYSTEMCTL = env.LOA_SYSTEMCTL ?? 'systemctl'
const HOSTNAMECTL = env.LOA_HOSTNAMECTL ?? 'hostnamectl'
const NAME = 'loa-firstboot.json'
/** Only these files, only into /etc/loa: the boot file cannot write anywhere else. */
const ALLOWED = new Set(['agent.json', 'ca.crt', 'client.crt', 'client.key'])

const log = (msg) => process.stdout.write(`loa-firstboot: ${msg}\n`)

function fail(msg) {
  process.stderr.write(`loa-firstboot: ${msg}\n`)
  process.exit(1)
}

function uidGid(user) {
  if (/^\d+:\d+$/.test(user)) return user.split(':').map(Number)
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`))
  if (!line) fail(`user "${user}" does not exist (create it first: see firmware-images/README.md)`)
  const [, , uid, gid] = line.split(':')
  return [Number(uid), Number(gid)]
}

const source = BOOT_DIRS.map((d) => path.join(d, NAME)).find((f) => fs.existsSync(f))
if (!source) {
  log('no first-boot file; nothing to do')
  process.exit(0)
}
let bundle
try {
  bundle = JSON.parse(fs.readFileSync(source, 'utf8'))
} catch (err) {
  fail(`${source} is not valid JSON (${err.message}); left in place`)
}
if (
  bundle?.version !== 1 ||
  typeof bundle.files !== 'object' ||
  typeof bundle.files['agent.json'] !== 'string'
) {
  fail(`${source}: unsupported content; left in place`)
}
for (const name of Object.keys(bundle.files)) {
  if (!ALLOWED.has(name) || typeof bundle.files[name] !== 'string') fail(`${source}: refusing file "${name}"`)
}
const agent = JSON.parse(bundle.files['agent.json'])
if (agent.deviceId !== bundle.deviceId) fail(`${source}: agent.json is for another device`)

const [uid, gid] = uidGid(OWNER)
fs.mkdirSync(ETC, { recursive: true, mode: 0o750 })
// root:loa 0750 on the Pi; the files inside belong to the agent's user.
if (process.getuid?.() === 0) fs.chownSync(ETC, 0, gid)
for (const [name, content] of Object.entries(bundle.files)) {
  const target = path.join(ETC, name)
  const tmp = `${target}.firstboot`
  const fd = fs.openSync(tmp, 'w', 0o600)
  fs.writeSync(fd, content)
  fs.fsyncSync(fd)
  fs.closeSync(fd)
  fs.chmodSync(tmp, 0o600)
  fs.chownSync(tmp, uid, gid)
  fs.renameSync(tmp, target)
  log(`installed ${target}`)
}

// Overwrite before unlinking: on FAT the data would otherwise stay readable in free clusters (best effort on flash).
const size = fs.statSync(source).size
const fd = fs.openSync(source, 'r+')
fs.writeSync(fd, Buffer.alloc(size))
fs.fsyncSync(fd)
fs.closeSync(fd)
fs.unlinkSync(source)
log(`removed ${source}`)

if (typeof bundle.hostname === 'string' && /^[a-z0-9-]{1,63}$/.test(bundle.hostname)) {
  try {
    execFileSync(HOSTNAMECTL, ['set-hostname', bundle.hostname], { stdio: 'inherit' })
    log(`host name ${bundle.hostname}`)
  } catch (err) {
    log(`could not set the host name: ${err.message}`)
  }
}
execFileSync(SYSTEMCTL, ['enable', 'loa-agent.service'], { stdio: 'inherit' })
execFileSync(SYSTEMCTL, ['start', '--no-block', 'loa-agent.service'], { stdio: 'inherit' })
log(`device ${bundle.deviceId} ready; loa-agent enabled`)
