import assert from "node:assert/strict";
import { PUBKEY_BYTES, TICKET_BYTES } from "./link.ts";
import { makeTicket, MAX_PASSWORD_BYTES, SpiceTicketError } from "./ticket.ts";

async function rsaKeyPair(bits = 1024): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(
    {
      name: "RSA-OAEP",
      modulusLength: bits,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-1",
    },
    true,
    ["encrypt", "decrypt"],
  );
}

async function spkiOf(pair: CryptoKeyPair): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
}

Deno.test("makeTicket() encrypts password + NUL so the private key recovers it", async () => {
  const pair = await rsaKeyPair();
  const spki = await spkiOf(pair);
  assert.equal(spki.length, PUBKEY_BYTES);
  const ticket = await makeTicket(spki, "sécret");
  assert.equal(ticket.length, TICKET_BYTES);
  const plain = new Uint8Array(
    await crypto.subtle.decrypt({ name: "RSA-OAEP" }, pair.privateKey, ticket),
  );
  assert.deepEqual(plain, new TextEncoder().encode("sécret\0"));
  const again = await makeTicket(spki, "sécret");
  assert.notDeepEqual(again, ticket, "OAEP is randomised");
});

Deno.test("makeTicket() accepts the empty and the 60-byte password, rejects 61 bytes", async () => {
  const pair = await rsaKeyPair();
  const spki = await spkiOf(pair);
  const empty = await makeTicket(spki, "");
  const plain = await crypto.subtle.decrypt({ name: "RSA-OAEP" }, pair.privateKey, empty);
  assert.deepEqual(new Uint8Array(plain), new Uint8Array([0]));
  assert.equal((await makeTicket(spki, "x".repeat(MAX_PASSWORD_BYTES))).length, TICKET_BYTES);
  await assert.rejects(
    makeTicket(spki, "é".repeat(31)), // 62 UTF-8 bytes
    (e: unknown) => e instanceof SpiceTicketError && /62 bytes, the limit is 60/.test(e.message),
  );
});

Deno.test("makeTicket() rejects a key that is not an RSA SubjectPublicKeyInfo", async () => {
  await assert.rejects(makeTicket(new Uint8Array(162).fill(1), "pw"), SpiceTicketError);
  const big = await spkiOf(await rsaKeyPair(2048));
  await assert.rejects(makeTicket(big, "pw"), /256-byte ciphertext/);
});
