// The Node-only entry (`@breakwater/client/node`): stores that need node:fs stay out of browser bundles.
export { fileTokenStore } from './store/file.js'
