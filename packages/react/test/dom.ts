// A DOM for React Testing Library: jsdom's window, its properties copied onto
// globalThis where Node has none of its own (Node's fetch, timers, streams,
// BroadcastChannel and TextDecoder stay). Import it first.
// The test server's tRPC instance refuses to start where a `window` exists: load it first.
import './server.js'
import { JSDOM } from 'jsdom'

const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost/' })
const target = globalThis as Record<string, unknown>
for (const key of Object.getOwnPropertyNames(dom.window)) {
  if (key in target) continue
  Object.defineProperty(target, key, {
    configurable: true,
    get: () => (dom.window as unknown as Record<string, unknown>)[key],
  })
}
// React's act() warns unless told it runs in a test.
target.IS_REACT_ACT_ENVIRONMENT = true
