/**
 * Why a delivery failed; `retry` when it may work later (a timeout, a refused connection, a 5xx, a 429); `broken`
 * when the target itself cannot be delivered to (a URL the guard refuses, a Slack channel or token that is gone),
 * which disables the subscription.
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    message: string,
    readonly retry: boolean,
    readonly broken = false,
  ) {
    super(message);
  }
}
