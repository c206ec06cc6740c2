import { z } from 'zod';
import { clearSessionCookies, sessionToken, setSessionCookies } from '../../http/session-cookies.js';
import type { Config } from '../../config.js';
import type { RoutePlugin } from '../../http/route.js';
import { LoginBody, SignupBody, SignupResponse, SuccessResponse } from './contract.js';
import type { LoginService } from './login-service.js';

/** Signup, login and logout of browser sessions. */
export const authRoutes = (login: LoginService, config: Pick<Config, 'sessionCookieAgeSeconds' | 'siteUrl'>): RoutePlugin => async (app) => {
  const cookieSettings = (protocol: string) => ({
    maxAgeSeconds: config.sessionCookieAgeSeconds,
    secure: config.siteUrl ? config.siteUrl.startsWith('https:') : protocol === 'https',
  });

  app.post(
    '/api/signup/',
    {
      config: { access: 'public' },
      schema: {
        operationId: 'signup_create',
        tags: ['auth'],
        summary: 'Create a user with an organization and a project, and log in',
        body: SignupBody,
        response: { 201: SignupResponse },
      },
    },
    async (request, reply) => {
      const { user, sessionToken: token } = await login.signup(request.body);
      setSessionCookies(reply, token, cookieSettings(request.protocol));
      return reply.code(201).send(user);
    },
  );

  app.post(
    '/api/login/',
    {
      config: { access: 'public' },
      schema: { operationId: 'login_create', tags: ['auth'], summary: 'Log in with email and password', body: LoginBody, response: { 200: SuccessResponse } },
    },
    async (request, reply) => {
      const token = await login.login(request.body.email, request.body.password);
      setSessionCookies(reply, token, cookieSettings(request.protocol));
      return { success: true as const };
    },
  );

  app.post(
    '/api/logout/',
    {
      config: { access: 'public' },
      schema: { operationId: 'logout_create', tags: ['auth'], summary: 'End the browser session', response: { 200: SuccessResponse } },
    },
    async (request, reply) => {
      const token = sessionToken(request);
      if (token) await login.logout(token);
      clearSessionCookies(reply);
      return { success: true as const };
    },
  );

  // PostHog's own logout is the Django view /logout, which ends the session and redirects to the login page. It
  // takes any method: the web app logs out by navigating to it (userLogic: window.location.href = '/logout').
  for (const [method, operationId] of [
    ['GET', 'logout_redirect_retrieve'],
    ['POST', 'logout_redirect'],
  ] as const) {
    app.route({
      method,
      url: '/logout',
      config: { access: 'public' },
      schema: { operationId, tags: ['auth'], summary: 'End the browser session and redirect to /login', response: { 302: z.null() } },
      handler: async (request, reply) => {
        const token = sessionToken(request);
        if (token) await login.logout(token);
        clearSessionCookies(reply);
        return reply.redirect('/login', 302);
      },
    });
  }
};

