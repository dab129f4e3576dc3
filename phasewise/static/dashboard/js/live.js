// Live updates over graphql-transport-ws (the graphql-ws client shipped in vendor/), authenticated in connection_init.
import { createClient } from "../vendor/graphql-ws/client.js";
import { token } from "./api.js";

// Closed for good: the token expired (4401) or was refused in connection_init (4403).
const REFUSED = new Set([4401, 4403]);

export function connect({ onState, onRefused }) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const client = createClient({
    url: `${scheme}://${location.host}/graphql`,
    connectionParams: () => ({ Authorization: `Bearer ${token()}` }),
    lazy: false,
    retryAttempts: Infinity,
    shouldRetry: (event) => !REFUSED.has(event?.code),
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, 15000))),
    on: {
      connecting: () => onState("connecting"),
      connected: () => onState("live"),
      closed: (event) => (REFUSED.has(event?.code) ? onRefused() : onState("down")),
    },
  });
  return {
    // Returns a function that ends the subscription.
    subscribe(query, variables, onData, onError) {
      return client.subscribe(
        { query, variables },
        {
          next: (message) => (message.errors ? onError(message.errors) : onData(message.data)),
          error: (error) => onError(error),
          complete: () => {},
        },
      );
    },
    close: () => client.dispose(),
  };
}
