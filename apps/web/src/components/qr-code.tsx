import { encode } from 'uqr'

/** The quiet zone ISO/IEC 18004 asks for around a QR code, in modules. */
const QUIET_ZONE = 4

/**
 * The SVG path of a QR code's dark modules, one unit square each, in a
 * `size × size` grid that includes the quiet zone. Error correction `M`
 * (15 %): an otpauth URI fits in a small version, and a phone camera copes
 * with glare and a dusty screen.
 */
function qrPath(text: string): { size: number; d: string } {
  const { size, data } = encode(text, { ecc: 'M', border: QUIET_ZONE })
  let d = ''
  data.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`
    })
  })
  return { size, d }
}

export interface QrCodeProps {
  text: string
  /** What the code stands for, for those who cannot see it. */
  label: string
  'data-testid'?: string
}

/**
 * `text` as a QR code, drawn here: the otpauth URI holds the TOTP secret, so
 * it is never sent to a QR service. An inline SVG: crisp at any zoom, prints well.
 */
export function QrCode({ text, label, 'data-testid': testId }: QrCodeProps) {
  const { size, d } = qrPath(text)
  return (
    <div className="qr" role="img" aria-label={label} data-testid={testId}>
      <svg viewBox={`0 0 ${size} ${size}`} shapeRendering="crispEdges" aria-hidden="true">
        <rect width={size} height={size} fill="#fff" />
        <path fill="#000" d={d} />
      </svg>
    </div>
  )
}
