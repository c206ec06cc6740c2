// A stand-in for PostHog's app bundle: it reads the preloaded context and calls the API as the app's lib/api.ts does
// (same-origin fetch with the session cookie, the CSRF cookie echoed in X-CSRFToken on unsafe methods).
const context = window.POSTHOG_APP_CONTEXT

function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)posthog_csrftoken=([^;]*)/)
    return match ? decodeURIComponent(match[1]) : ''
}

async function api(method, url, body, { csrf = true } = {}) {
    const headers = { 'Content-Type': 'application/json' }
    if (csrf && method !== 'GET') headers['X-CSRFToken'] = csrfToken()
    const response = await fetch(url, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) })
    const text = await response.text()
    let json = null
    try {
        json = JSON.parse(text)
    } catch {}
    return { status: response.status, body: json }
}

async function login(email, password) {
    return api('POST', '/api/login/', { email, password })
}

async function boot() {
    const preflight = await api('GET', '/_preflight/')
    const me = context.anonymous ? null : await api('GET', '/api/users/@me/')
    const root = document.getElementById('root')
    root.textContent = context.anonymous ? 'Log in' : `Hello ${context.current_user.email} in ${context.current_team.name}`
    window.fakeApp = { context, api, login, csrfToken, preflight, me }
    document.body.dataset.ready = 'yes'
}

boot()
