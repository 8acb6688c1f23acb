import { useMutation } from '@tanstack/react-query'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import type { PasskeyRow as Passkey } from '../api.js'
import { localTime } from '../local-time.js'
import { useTRPC } from '../trpc.js'

export interface PasskeyRowProps {
  passkey: Passkey
  /** A change begins: the section's last outcome goes. */
  onStart(): void
  /** Reads the list again (after a change, the outcome is said once the list shows it). */
  reload(): Promise<void>
  /** A change went through. */
  onNotice(message: string): void
  /** A change was refused. */
  onRefused(failure: unknown): void
}

/**
 * One passkey in the list. Renaming turns the name cell into a small form;
 * removing asks once more in the row, since the passkey then stops working here.
 */
export function PasskeyRow({ passkey, onStart, reload, onNotice, onRefused }: PasskeyRowProps) {
  const trpc = useTRPC()
  const rename = useMutation(trpc.passkeys.rename.mutationOptions())
  const remove = useMutation(trpc.passkeys.remove.mutationOptions())
  const [mode, setMode] = useState<'view' | 'rename' | 'remove'>('view')
  const [name, setName] = useState(passkey.name)
  const nameField = useRef<HTMLInputElement>(null)
  const keepButton = useRef<HTMLButtonElement>(null)

  useEffect(() => {
    if (mode === 'rename') nameField.current?.select()
    if (mode === 'remove') keepButton.current?.focus()
  }, [mode])

  const begin = (next: 'rename' | 'remove') => {
    onStart()
    setName(passkey.name)
    setMode(next)
  }

  const saveName = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    onStart()
    const next = name.trim()
    rename.mutate(
      { id: passkey.id, name: next },
      {
        onSuccess: async () => {
          await reload()
          setMode('view')
          onNotice(`Passkey renamed to “${next}”.`)
        },
        onError: (failure) => {
          onRefused(failure)
          nameField.current?.select()
        },
      },
    )
  }

  const confirmRemoval = () => {
    onStart()
    remove.mutate(
      { id: passkey.id },
      {
        onSuccess: async () => {
          await reload()
          onNotice(`Passkey “${passkey.name}” removed: it no longer signs in to this account.`)
        },
        onError: (failure) => {
          setMode('view')
          onRefused(failure)
        },
      },
    )
  }

  return (
    <tr data-testid="passkey-row" data-passkey-id={passkey.id}>
      <td>
        {mode === 'rename' ? (
          <form className="inline-form" noValidate onSubmit={saveName}>
            <input
              ref={nameField}
              type="text"
              maxLength={64}
              autoComplete="off"
              aria-label={`New name for ${passkey.name}`}
              data-testid="passkey-rename-input"
              value={name}
              onChange={(event) => setName(event.target.value)}
            />
            <button
              type="submit"
              className="small"
              disabled={rename.isPending}
              data-testid="passkey-rename-save"
            >
              Save
            </button>
            <button
              type="button"
              className="secondary small"
              disabled={rename.isPending}
              data-testid="passkey-rename-cancel"
              onClick={() => setMode('view')}
            >
              Cancel
            </button>
          </form>
        ) : (
          <span data-testid="passkey-row-name">{passkey.name}</span>
        )}
      </td>
      <td>
        <span
          className={passkey.synced ? 'badge' : 'badge muted-badge'}
          data-testid="passkey-synced"
          data-synced={String(passkey.synced)}
          title={
            passkey.synced
              ? 'Synced: your platform keeps it on all your devices'
              : 'Kept on one device or security key only'
          }
        >
          {passkey.synced ? 'Synced' : 'This device'}
        </span>
      </td>
      <td data-testid="passkey-created">{localTime(passkey.createdAt)}</td>
      <td data-testid="passkey-last-used">
        {passkey.lastUsedAt === null ? 'Never' : localTime(passkey.lastUsedAt)}
      </td>
      <td className="row-actions" hidden={mode === 'rename'}>
        {mode === 'remove' ? (
          <span className="confirm">
            Remove “{passkey.name}”?{' '}
            <button
              type="button"
              className="danger small"
              disabled={remove.isPending}
              data-testid="passkey-remove-confirm"
              onClick={confirmRemoval}
            >
              Remove
            </button>
            <button
              ref={keepButton}
              type="button"
              className="secondary small"
              disabled={remove.isPending}
              data-testid="passkey-remove-cancel"
              onClick={() => setMode('view')}
            >
              Keep
            </button>
          </span>
        ) : (
          <>
            <button
              type="button"
              className="secondary small"
              data-testid="passkey-rename"
              onClick={() => begin('rename')}
            >
              Rename
            </button>
            <button
              type="button"
              className="secondary small"
              data-testid="passkey-remove"
              onClick={() => begin('remove')}
            >
              Remove
            </button>
          </>
        )}
      </td>
    </tr>
  )
}
