import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, setCsrfToken, setUnauthenticatedHandler } from '../api/client';

export type Role = 'owner' | 'editor' | 'viewer';

export interface SessionUser {
  id: number;
  email: string;
  name: string;
  role: Role;
  siteId: number;
}

/** What POST /auth/login, POST /auth/setup and GET /auth/session answer. */
export interface SessionBody {
  user: SessionUser;
  site: { id: number; name: string };
  csrfToken: string;
}

interface SessionState {
  /** undefined while the first GET /auth/session is in flight; null when signed out. */
  session: SessionBody | null | undefined;
  signIn(email: string, password: string): Promise<void>;
  completeSetup(input: { token: string; email: string; name: string; password: string }): Promise<void>;
  signOut(): Promise<void>;
  /** True when the user's role may change things (editor and owner). */
  canEdit: boolean;
  isOwner: boolean;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<SessionBody | null | undefined>(undefined);
  const queryClient = useQueryClient();

  const accept = useCallback((body: SessionBody | null) => {
    setCsrfToken(body?.csrfToken ?? null);
    setSession(body);
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => accept(null));
    // Signed out (401) or the server unreachable: either way the sign-in page is where to go.
    api<SessionBody>('GET', '/auth/session').then(accept, () => accept(null));
    return () => setUnauthenticatedHandler(null);
  }, [accept]);

  const value = useMemo<SessionState>(
    () => ({
      session,
      async signIn(email, password) {
        accept(await api<SessionBody>('POST', '/auth/login', { email, password }));
      },
      async completeSetup(input) {
        accept(await api<SessionBody>('POST', '/auth/setup', input));
      },
      async signOut() {
        // Leave the signed-in pages first (no query observes anything any more) and drop their data,
        // then end the session: a refetch racing the sign-out would otherwise meet a 401.
        setSession(null);
        await queryClient.cancelQueries();
        queryClient.clear();
        await api('POST', '/auth/logout', {}).catch(() => undefined);
        setCsrfToken(null);
      },
      canEdit: session?.user.role === 'owner' || session?.user.role === 'editor',
      isOwner: session?.user.role === 'owner',
    }),
    [session, accept, queryClient],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside SessionProvider');
  return state;
}
