// Live updates over graphql-transport-ws (the graphql-ws client shipped in vendor/), authenticated in connection_init.
import { createClient } from "../vendor/graphql-ws/client.js";
import { token } from "./api.js";

export function connect({ onState }) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const client = createClient({
    url: `${scheme}://${location.host}/graphql`,
    connectionParams: () => ({ Authorization: `Bearer ${token()}` }),
    lazy: false,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, 15000))),
    on: {
      connecting: () => onState("connecting"),
      connected: () => onState("live"),
      closed: () => onState("down"),
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
