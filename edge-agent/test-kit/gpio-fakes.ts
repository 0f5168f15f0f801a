// Test fixtures only: stand-ins for the GPIO hardware edge (this machine has no gpio-sim: no configfs, no module).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Fake `gpioset` and `gpiodetect` executables in `dir`, to put first on PATH. gpioset appends `<pid> <argv>` to
 * `log` and behaves like the real tool of `version`: v1 holds the line (keeps running until SIGTERM/SIGINT) only
 * with `--mode=signal`/`--mode=wait` and rejects v2's `--chip`; v2 holds unless `-t 0` and rejects `--mode`. A
 * line offset listed in `busy` fails like a line held by another process.
 */
export function fakeGpiod(
  dir: string,
  version: '1.6.3' | '2.1.3',
  log: string,
  busy: string[] = [],
): NodeJS.ProcessEnv {
  mkdirSync(dir, { recursive: true })
  const v1 = version.startsWith('1.')
  const gpioset = `#!/bin/sh
if [ "$1" = "--version" ] || [ "$1" = "-v" ]; then echo "gpioset (libgpiod) v${version}"; exit 0; fi
echo "$$ $*" >> "${log}"
hold=${v1 ? 0 : 1}
for a in "$@"; do
  case "$a" in
    ${v1 ? '--chip|-c|--consumer=*) echo "gpioset: unrecognized option $a" >&2; exit 1 ;;' : '--mode=*) echo "gpioset: unrecognized option $a" >&2; exit 1 ;;'}
    --mode=signal|--mode=wait) hold=1 ;;
  esac
  for b in ${busy.join(' ')} ; do case "$a" in "$b"=*) echo "gpioset: unable to request lines: Device or resource busy" >&2; exit 1 ;; esac; done
done
case " $* " in *" -t 0 "*) hold=0 ;; esac
[ $hold = 0 ] && exit 0
trap 'echo "$$ released" >> "${log}"; exit 0' TERM INT
while :; do sleep 1 & wait $!; done
`
  const gpiodetect = `#!/bin/sh
echo "gpiochip0 [pinctrl-bcm2711] (58 lines)"
echo "gpiochip1 [raspberrypi-exp-gpio] (8 lines)"
`
  writeFileSync(join(dir, 'gpioset'), gpioset)
  writeFileSync(join(dir, 'gpiodetect'), gpiodetect)
  chmodSync(join(dir, 'gpioset'), 0o755)
  chmodSync(join(dir, 'gpiodetect'), 0o755)
  return { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` }
}

/** Lines of the fake gpioset's log: `{ pid, args }` per invocation, `released` when a holder got its signal. */
export function gpiosetCalls(log: string): { pid: number; args: string }[] {
  if (!existsSync(log)) return []
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf(' ')
      return { pid: Number(l.slice(0, i)), args: l.slice(i + 1) }
    })
}

/**
 * A directory shaped like /sys/class/gpio on a kernel ≥ 6.6 (Pi 4): chips at base 512 and 570, and a fake kernel
 * that turns a number written to `export` into `gpio<N>/{direction,value,active_low}`. Returns a stop function.
 */
export function fakeSysfs(root: string): () => void {
  const chip = (base: number, label: string, ngpio: number, dev: string) => {
    const d = join(root, `gpiochip${base}`)
    mkdirSync(join(d, 'device', dev), { recursive: true })
    writeFileSync(join(d, 'base'), `${base}\n`)
    writeFileSync(join(d, 'label'), `${label}\n`)
    writeFileSync(join(d, 'ngpio'), `${ngpio}\n`)
  }
  chip(512, 'pinctrl-bcm2711', 58, 'gpiochip0')
  chip(570, 'raspberrypi-exp-gpio', 8, 'gpiochip1')
  writeFileSync(join(root, 'export'), '')
  writeFileSync(join(root, 'unexport'), '')
  const timer = setInterval(() => {
    const n = readFileSync(join(root, 'export'), 'utf8').trim()
    if (!n) return
    const g = join(root, `gpio${n}`)
    mkdirSync(g, { recursive: true })
    writeFileSync(join(g, 'direction'), 'in\n')
    writeFileSync(join(g, 'value'), '0\n')
    writeFileSync(join(g, 'active_low'), '0\n')
    writeFileSync(join(root, 'export'), '')
  }, 20)
  return () => clearInterval(timer)
}
