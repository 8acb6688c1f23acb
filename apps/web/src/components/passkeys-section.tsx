import { readReason } from '@breakwater/client'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { describeFailure } from '../messages.js'
import { useTRPC, useTRPCClient } from '../trpc.js'
import { createPasskey } from '../webauthn.js'
import { passkeysSupported } from '../webauthn-support.js'
import { Outcome } from './outcome.js'
import { PasskeyRow } from './passkey-row.js'

const UNSUPPORTED = 'This browser cannot create passkeys here.'

/**
 * The user's passkeys (SPEC §10), in the Security card: each with its name,
 * whether the platform syncs it across devices, when it was added and last
 * used; add one (named), rename one, remove one. Adding and removing are factor
 * changes, so the server may want a recent proof first: the re-authentication
 * dialog asks, then the client retries. The page only ever holds what
 * `passkeys.list` shows: no credential id, no key.
 */
export function PasskeysSection() {
  const trpc = useTRPC()
  const client = useTRPCClient()
  const queryClient = useQueryClient()
  const list = useQuery(trpc.passkeys.list.queryOptions())
  const [name, setName] = useState('')
  const [error, setError] = useState<string>()
  const [notice, setNotice] = useState<string | undefined>(
    passkeysSupported() ? undefined : UNSUPPORTED,
  )
  /** The list as the server has it now. */
  const reload = () => queryClient.invalidateQueries(trpc.passkeys.list.queryFilter())
  // Step-up may come first (the dialog); the browser then asks for the device's PIN or biometrics.
  const add = useMutation({
    mutationFn: async (chosen: string) => {
      const options = await client.passkeys.registrationOptions.mutate()
      const response = await createPasskey(options)
      return client.passkeys.register.mutate({
        response,
        ...(chosen === '' ? {} : { name: chosen }),
      })
    },
    onSuccess: reload,
  })

  const clear = () => {
    setError(undefined)
    setNotice(undefined)
  }
  /** After a refused change: the message, then the list as it is (a passkey removed elsewhere goes). */
  const refused = (failure: unknown) => {
    setError(describeFailure(failure, 'passkey'))
    if (readReason(failure) === 'PASSKEY_NOT_FOUND') void reload()
  }

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    clear()
    add.mutate(name.trim(), {
      onSuccess: ({ passkey }) => {
        setName('')
        setNotice(`Passkey “${passkey.name}” added: it signs you in without a password.`)
      },
      onError: (failure) => setError(describeFailure(failure, 'passkey')),
    })
  }

  const passkeys = list.data?.passkeys ?? []
  const listError = list.error ? describeFailure(list.error, 'passkey') : undefined
  return (
    <div data-testid="passkeys-section" data-count={list.data ? passkeys.length : undefined}>
      <h3>Passkeys</h3>
      <p className="hint">
        A passkey signs you in with your device’s screen lock or a security key, instead of a
        password. It also works as the second step after your password.
      </p>
      <p className="hint" data-testid="passkeys-empty" hidden={passkeys.length > 0}>
        {list.data ? 'No passkeys yet.' : 'Loading passkeys…'}
      </p>
      <table data-testid="passkeys" hidden={passkeys.length === 0}>
        <thead>
          <tr>
            <th>Name</th>
            <th>Kind</th>
            <th>Added</th>
            <th>Last used</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {passkeys.map((passkey) => (
            <PasskeyRow
              key={passkey.id}
              passkey={passkey}
              onStart={clear}
              reload={reload}
              onNotice={setNotice}
              onRefused={refused}
            />
          ))}
        </tbody>
      </table>
      <form data-testid="passkey-add-form" noValidate onSubmit={submit}>
        <label>
          Name of the new passkey (optional)
          <input
            type="text"
            name="passkey-name"
            maxLength={64}
            autoComplete="off"
            placeholder="e.g. Work laptop"
            data-testid="passkey-name"
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        </label>
        <div className="actions">
          <button
            type="submit"
            disabled={!passkeysSupported() || add.isPending}
            data-testid="passkey-add"
          >
            Add a passkey
          </button>
        </div>
      </form>
      <Outcome kind="error" message={error ?? listError} testId="passkey-error" />
      <Outcome kind="notice" message={notice} testId="passkey-notice" />
    </div>
  )
}
