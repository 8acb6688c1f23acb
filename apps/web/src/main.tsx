import './style.css'
import { BreakwaterProvider } from '@breakwater/react'
import { createRoot } from 'react-dom/client'
import { auth, trpcClient } from './api.js'
import { App } from './app.js'
import { takeLinkToken } from './link-token.js'

// Before anything else, and so before any request this script makes: a mailed
// link's token leaves the address bar (link-token.ts). The imports above only
// define things; none of them calls the server (api.ts makes the client, which
// sends nothing until a component asks).
const link = takeLinkToken()

// No TanStack Query here: the signed-in page brings it, and its providers, with
// its own chunk (queries.tsx), so a first visit loads less.
createRoot(document.getElementById('app')!).render(
  <BreakwaterProvider auth={auth} client={trpcClient}>
    <App link={link} />
  </BreakwaterProvider>,
)
