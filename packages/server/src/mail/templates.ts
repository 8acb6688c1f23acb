/** One mail, before it has a sender. */
export interface MailContent {
  readonly subject: string
  readonly text: string
  readonly html: string
}

/** What a template is given. `displayName` is the user's own, unescaped: escape it in HTML. */
export interface MailContext {
  readonly appName: string
  readonly email: string
  readonly displayName: string | null
  /** The link to open (verification, reset, email change). */
  readonly link?: string
  /** A sign-in code. */
  readonly code?: string
  /** The address an email change moves to (in the notice to the old one). */
  readonly newEmail?: string
  /** How long the link or code lives, in minutes. */
  readonly minutes: number
}

/** The mails Breakwater sends (SPEC §9); a team replaces any of them with the `mail.templates` option. */
export interface MailTemplates {
  verifyEmail(context: MailContext): MailContent
  resetPassword(context: MailContext): MailContent
  changeEmail(context: MailContext): MailContent
  emailChangeNotice(context: MailContext): MailContent
  signInCode(context: MailContext): MailContent
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] as string)
}

function greeting(context: MailContext): { text: string; html: string } {
  const name = context.displayName?.trim()
  return name
    ? { text: `Hello ${name},`, html: `<p>Hello ${escapeHtml(name)},</p>` }
    : { text: 'Hello,', html: '<p>Hello,</p>' }
}

function linkMail(
  context: MailContext,
  subject: string,
  lead: string,
  action: string,
  unasked: string,
): MailContent {
  const hello = greeting(context)
  const link = context.link ?? ''
  return {
    subject: `${context.appName}: ${subject}`,
    text: `${hello.text}\n\n${lead}\n\n${link}\n\nThe link works once, for ${context.minutes} minutes. ${unasked}\n`,
    html:
      `${hello.html}<p>${escapeHtml(lead)}</p>` +
      `<p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p>` +
      `<p>The link works once, for ${context.minutes} minutes. ${escapeHtml(unasked)}</p>`,
  }
}

export const DEFAULT_TEMPLATES: MailTemplates = Object.freeze({
  verifyEmail: (context: MailContext) =>
    linkMail(
      context,
      'confirm your email address',
      `Open this link to confirm that ${context.email} is yours:`,
      'Confirm my address',
      'If you did not sign up, ignore this mail.',
    ),
  resetPassword: (context: MailContext) =>
    linkMail(
      context,
      'reset your password',
      'Open this link to choose a new password. Every device signed in to your account will be signed out:',
      'Choose a new password',
      'If you did not ask for this, ignore this mail: your password stays as it is.',
    ),
  changeEmail: (context: MailContext) =>
    linkMail(
      context,
      'confirm your new email address',
      `Open this link to make ${context.email} the address of your account:`,
      'Confirm the new address',
      'If you did not ask for this, ignore this mail.',
    ),
  emailChangeNotice: (context: MailContext) => {
    const hello = greeting(context)
    const lead = `Someone asked to move your account from ${context.email} to ${context.newEmail ?? 'another address'}. Nothing changes until the new address confirms it.`
    const unasked = 'If this was not you, change your password now.'
    return {
      subject: `${context.appName}: a change of your email address was requested`,
      text: `${hello.text}\n\n${lead}\n\n${unasked}\n`,
      html: `${hello.html}<p>${escapeHtml(lead)}</p><p>${escapeHtml(unasked)}</p>`,
    }
  },
  signInCode: (context: MailContext) => {
    const hello = greeting(context)
    const code = context.code ?? ''
    return {
      subject: `${context.appName}: your sign-in code`,
      text: `${hello.text}\n\nYour sign-in code is ${code}. It works once, for ${context.minutes} minutes.\n\nIf you did not ask for it, ignore this mail.\n`,
      html: `${hello.html}<p>Your sign-in code is <strong>${escapeHtml(code)}</strong>. It works once, for ${context.minutes} minutes.</p><p>If you did not ask for it, ignore this mail.</p>`,
    }
  },
})
