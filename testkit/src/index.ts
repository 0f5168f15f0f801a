// Test-only helpers every workspace's tests share. A leaf: it depends on no other workspace.
export { type PacedResult, pacedPost } from './paced-post.js'
export { freePort } from './ports.js'
export { canMountSmallDisk, fillDisk, mountSmallDisk, unmountSmallDisk } from './small-disk.js'
export { makeTone, type ToneOptions } from './tone.js'
export { sleep, type Truthy, waitFor } from './wait.js'
