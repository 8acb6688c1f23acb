// The single-page app, with no build step: tRPC over fetch by hand, in cookie transport
// (HttpOnly cookies, never a token in JavaScript). A bundled app would use
// createBreakwaterClient<AppRouter>({ url, transport: 'cookie', namespace: 'account',
// transformer: superjson }) from @breakwater/client instead, which does all of this.
const api = document.querySelector('meta[name="breakwater-api"]').content
const apiOrigin = new URL(api).origin
const out = document.querySelector('#out')
const show = (value) => {
  out.textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 2)
}

// The team's tRPC instance uses superjson: plain inputs travel as { json: input }.
async function call(type, path, input) {
  const url = new URL(`${api}/${path}`)
  const init = { credentials: 'include', headers: {} }
  if (type === 'mutation') {
    init.method = 'POST'
    init.headers['content-type'] = 'application/json'
    init.headers['x-breakwater-csrf'] = '1' // Breakwater's CSRF proof, on every mutation
    init.body = JSON.stringify({ json: input })
  } else if (input !== undefined) {
    url.searchParams.set('input', JSON.stringify({ json: input }))
  }
  const response = await fetch(url, init)
  const body = await response.json()
  if (body.error) {
    const error = new Error(body.error.json?.message ?? 'request failed')
    error.reason = body.error.json?.data?.reason
    throw error
  }
  return body.result.data.json
}

// What @breakwater/client does for you: on TOKEN_EXPIRED refresh once, then replay.
async function authed(request) {
  try {
    return await request()
  } catch (error) {
    if (error.reason !== 'TOKEN_EXPIRED') throw error
    await call('mutation', 'account.auth.refresh')
    return request()
  }
}

// A plain route refuses with the same JSON shape, without the transformer's envelope.
async function download(name) {
  const response = await fetch(`${apiOrigin}/files/${name}`, { credentials: 'include' })
  if (response.ok) return response.text()
  const { error } = await response.json()
  throw Object.assign(new Error(error.message), { reason: error.data.reason })
}

const report = (promise) =>
  promise.then(show, (error) => show(`${error.reason ?? 'ERROR'}: ${error.message}`))

document.querySelector('#register').addEventListener('submit', (event) => {
  event.preventDefault()
  const form = new FormData(event.target)
  const { email, password, company } = Object.fromEntries(form)
  report(
    event.submitter?.value === 'login'
      ? call('mutation', 'account.auth.login', { email, password })
      : call('mutation', 'account.auth.register', { email, password, company }),
  )
})
document.querySelector('#me').addEventListener('click', () => {
  report(authed(() => call('query', 'account.auth.me')))
})
document.querySelector('#download').addEventListener('click', () => {
  report(authed(() => download('report.txt')))
})
document.querySelector('#logout').addEventListener('click', () => {
  report(call('mutation', 'account.auth.logout', {}))
})
