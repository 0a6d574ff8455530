/**
 * Prints a token for the example Auth: `npx tsx examples/auth/make-token.ts <user> [name]`.
 * Signed with the secret of examples/auth/langgraph.json, valid for a day.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { SignJWT } from "jose";

const config = JSON.parse(readFileSync(new URL("./langgraph.json", import.meta.url), "utf8")) as { env: Record<string, string> };
const secret = process.env.AUTH_JWT_SECRET ?? config.env.AUTH_JWT_SECRET;
const issuer = process.env.AUTH_JWT_ISSUER ?? config.env.AUTH_JWT_ISSUER;

export async function makeToken(user: string, name = user): Promise<string> {
  return new SignJWT({ name })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(user)
    .setIssuer(issuer)
    .setIssuedAt()
    .setExpirationTime("1d")
    .sign(new TextEncoder().encode(secret));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [user, name] = process.argv.slice(2);
  if (!user) {
    console.error("usage: npx tsx examples/auth/make-token.ts <user> [display name]");
    process.exit(2);
  }
  console.log(await makeToken(user, name));
}
