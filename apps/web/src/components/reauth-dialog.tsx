import { useEffect, useSyncExternalStore } from 'react'
import { reauthPrompt } from '../api.js'
import { ReauthQuestion } from './reauth-question.js'

/**
 * Where the step-up question (SPEC §10) is asked: a fresh `<ReauthQuestion>`
 * each time the client asks (api.ts), nothing otherwise.
 */
export function ReauthDialog() {
  const open = useSyncExternalStore(reauthPrompt.subscribe, reauthPrompt.isOpen)
  // The page is going (the session ended): the refused call just fails.
  useEffect(() => () => reauthPrompt.answer(false), [])
  return open ? <ReauthQuestion /> : null
}
