// GraphQL over HTTP on this server, with the bearer token of this tab (sessionStorage: gone when the tab closes).
const TOKEN_KEY = "phasewise.token";

export class ApiError extends Error {
  constructor(message, { unauthenticated = false } = {}) {
    super(message);
    this.unauthenticated = unauthenticated;
  }
}

export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const signOut = () => sessionStorage.removeItem(TOKEN_KEY);

export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let response;
  try {
    response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  } catch (error) {
    throw new ApiError(`The server cannot be reached (${error.message}).`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} without a GraphQL result.`);
  }
  if (body.errors?.length) {
    const unauthenticated = body.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
    throw new ApiError(body.errors.map((e) => e.message).join("; "), { unauthenticated });
  }
  return body.data;
}

const LOGIN = `mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token expiresAt user { name email role } errors { code field message } }
}`;

export async function login(email, password) {
  const { login: answer } = await gql(LOGIN, { email, password });
  if (answer.errors.length || !answer.token) {
    throw new ApiError(answer.errors.map((e) => e.message).join("; ") || "Sign-in failed.");
  }
  sessionStorage.setItem(TOKEN_KEY, answer.token);
  return answer.user;
}
