// Tickets (PVEAuthCookie + CSRFPreventionToken, signed, expiring) and API tokens, checked
// as a real pveproxy checks them.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export interface SimUser {
  userid: string;
  password: string;
}

export interface SimToken {
  /** `root@pam!virtkeeper` */
  tokenid: string;
  secret: string;
}

export class Auth {
  private key = randomBytes(32);
  readonly users: SimUser[];
  readonly tokens: SimToken[];
  ticketLifetimeMs: number;

  constructor(options: { users?: SimUser[]; tokens?: SimToken[]; ticketLifetimeMs?: number }) {
    this.users = options.users ?? [{ userid: 'root@pam', password: randomBytes(9).toString('base64url') }];
    this.tokens = options.tokens ?? [{ tokenid: `${this.users[0]?.userid ?? 'root@pam'}!virtkeeper`, secret: randomUUID() }];
    this.ticketLifetimeMs = options.ticketLifetimeMs ?? 2 * 3600_000;
  }

  /** Invalidates every ticket issued so far (as a changed password or a restarted cluster would). */
  revokeTickets(): void {
    this.key = randomBytes(32);
  }

  private sign(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }

  issue(userid: string, now = Date.now()): { ticket: string; csrf: string } {
    const t = Math.floor(now / 1000)
      .toString(16)
      .toUpperCase();
    const plain = `PVE:${userid}:${t}`;
    return { ticket: `${plain}::${this.sign(plain)}`, csrf: `${t}:${this.sign(`csrf:${userid}:${t}`)}` };
  }

  /** The user a ticket belongs to, if it is genuine and not expired. */
  verifyTicket(ticket: string, now = Date.now()): string | undefined {
    const m = /^PVE:([^:]+):([0-9A-F]{8})::(.+)$/.exec(ticket);
    if (!m) return undefined;
    const plain = `PVE:${m[1]}:${m[2]}`;
    const a = Buffer.from(this.sign(plain));
    const b = Buffer.from(m[3] ?? '');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    if (now - Number.parseInt(m[2] ?? '0', 16) * 1000 > this.ticketLifetimeMs) return undefined;
    return m[1];
  }

  verifyCsrf(userid: string, token: string | undefined): boolean {
    if (!token) return false;
    const [t, sig] = token.split(':');
    return !!t && sig === this.sign(`csrf:${userid}:${t}`);
  }

  login(username: string, password: string): string | undefined {
    const byTicket = this.verifyTicket(password);
    if (byTicket === username) return username;
    const u = this.users.find((x) => x.userid === username);
    return u && u.password === password ? u.userid : undefined;
  }

  /** `PVEAPIToken=USER@REALM!TOKENID=SECRET` → the token's user. */
  verifyToken(header: string): string | undefined {
    const m = /^PVEAPIToken=([^!]+)!([^=:]+)[=:](.+)$/.exec(header.trim());
    if (!m) return undefined;
    const t = this.tokens.find((x) => x.tokenid === `${m[1]}!${m[2]}`);
    return t && t.secret === m[3] ? m[1] : undefined;
  }
}
