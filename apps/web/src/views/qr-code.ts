import { encode } from 'uqr'
import { h } from '../dom.js'

/** The quiet zone ISO/IEC 18004 asks for around a QR code, in modules. */
const QUIET_ZONE = 4

/**
 * The SVG path of a QR code's dark modules, one unit square each, in a
 * `size × size` grid that includes the quiet zone. Error correction `M`
 * (15 %): an otpauth URI fits in a small version, and a phone camera copes
 * with glare and a dusty screen.
 */
export function qrPath(text: string): { size: number; d: string } {
  const { size, data } = encode(text, { ecc: 'M', border: QUIET_ZONE })
  let d = ''
  data.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`
    })
  })
  return { size, d }
}

/**
 * `text` as a QR code, drawn here: the otpauth URI holds the TOTP secret, so
 * it is never sent to a QR service. An inline SVG (crisp at any zoom, prints
 * well), built through the HTML parser, which puts `<svg>` in the SVG
 * namespace without this bundle naming the namespace's URL (vite.config.ts
 * refuses any URL in the bundle); the markup holds only numbers made here.
 */
export function qrCode(
  text: string,
  label: string,
  attrs: Record<string, string> = {},
): HTMLElement {
  const { size, d } = qrPath(text)
  const figure = h('div', { ...attrs, class: 'qr', role: 'img', 'aria-label': label })
  figure.innerHTML = `<svg viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges" aria-hidden="true"><rect width="${size}" height="${size}" fill="#fff"/><path fill="#000" d="${d}"/></svg>`
  return figure
}
