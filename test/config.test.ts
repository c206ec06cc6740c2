import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('config', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      redisUrl: undefined,
      siteUrl: undefined,
      signupEnabled: false,
      logLevel: 'info',
      bootstrap: true,
      adminEmail: 'admin@localhost',
      rateLimit: { enabled: true, burstPerMinute: 480, sustainedPerHour: 4800 },
      workers: { enabled: true },
      blobStore: { kind: 'postgres' },
    });
    expect(config.dataDir.endsWith('/data')).toBe(true);
  });

  it('reads booleans, numbers and URLs', () => {
    const config = loadConfig({
      PORT: '9000',
      SIGNUP_ENABLED: 'yes',
      WORKERS: 'off',
      SITE_URL: 'https://burrow.example.com/',
      DATABASE_URL: 'postgres://u@h:5432/db',
      REDIS_URL: 'rediss://:secret@cache.example.com:6380/2',
      RATE_LIMIT_ENABLED: '0',
    });
    expect(config).toMatchObject({
      port: 9000,
      signupEnabled: true,
      workers: { enabled: false },
      siteUrl: 'https://burrow.example.com',
      databaseUrl: 'postgres://u@h:5432/db',
      redisUrl: 'rediss://:secret@cache.example.com:6380/2',
      rateLimit: { enabled: false },
    });
  });

  it('refuses bad values with a message naming each variable', () => {
    const attempt = () =>
      loadConfig({ PORT: 'eighty', SIGNUP_ENABLED: 'maybe', DATABASE_URL: 'mysql://x', REDIS_URL: 'localhost:6379', SECRET_KEY: 'short', LOG_LEVEL: 'loud' });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const name of ['PORT', 'SIGNUP_ENABLED', 'DATABASE_URL', 'REDIS_URL', 'SECRET_KEY', 'LOG_LEVEL']) expect(message).toContain(`${name}:`);
  });

  it('reads the S3 settings with BLOB_STORE=s3, and needs a bucket and both keys or neither', () => {
    expect(loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'recordings', S3_ENDPOINT: 'http://minio:9000', S3_ACCESS_KEY_ID: 'id', S3_SECRET_ACCESS_KEY: 'secret' }).blobStore).toEqual({
      kind: 's3',
      s3: { endpoint: 'http://minio:9000', bucket: 'recordings', region: 'us-east-1', credentials: { accessKeyId: 'id', secretAccessKey: 'secret' }, forcePathStyle: true },
    });
    expect(loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'b', S3_FORCE_PATH_STYLE: 'false' }).blobStore).toMatchObject({ s3: { credentials: undefined, forcePathStyle: false } });
    expect(() => loadConfig({ BLOB_STORE: 's3' })).toThrow('S3_BUCKET: is required when BLOB_STORE=s3');
    expect(() => loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'id' })).toThrow('S3_SECRET_ACCESS_KEY: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together');
    expect(() => loadConfig({ BLOB_STORE: 'disk' })).toThrow('BLOB_STORE:');
    expect(() => loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'b', S3_ENDPOINT: 'minio:9000' })).toThrow('S3_ENDPOINT: must be an http(s) URL');
  });

  it('reads the LLM settings of the AI helpers: off without LLM_BASE_URL, OpenAI models by default', () => {
    expect(loadConfig({})).toMatchObject({
      llm: { baseUrl: undefined, apiKey: undefined, timeoutMs: 30_000 },
      replayAi: { regexModel: 'gpt-4.1-mini', filtersModel: 'gpt-4.1' },
    });
    const local = loadConfig({ LLM_BASE_URL: 'http://localhost:11434/v1/', LLM_TIMEOUT_SECONDS: '5', SESSION_REPLAY_AI_REGEX_MODEL: 'llama3.2' });
    expect(local).toMatchObject({ llm: { baseUrl: 'http://localhost:11434/v1', apiKey: undefined, timeoutMs: 5000 }, replayAi: { regexModel: 'llama3.2' } });
    expect(() => loadConfig({ LLM_BASE_URL: 'api.openai.com/v1' })).toThrow('LLM_BASE_URL: must be an http(s) URL');
    expect(() => loadConfig({ LLM_TIMEOUT_SECONDS: '0' })).toThrow('LLM_TIMEOUT_SECONDS:');
  });
});
