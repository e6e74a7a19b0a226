import type { ReactNode } from 'react';
import { OverviewPage } from './pages/OverviewPage';
import { ContactPage } from './pages/contacts/ContactPage';
import { ContactsPage } from './pages/contacts/ContactsPage';
import { ImportJobPage } from './pages/contacts/ImportJobPage';
import { ImportPage } from './pages/contacts/ImportPage';

export type NavSection = 'Audience' | 'Messages' | 'Activity' | 'Settings';

/**
 * Every signed-in page: its path under /app/, and where it sits in the navigation. A page with a
 * `label` gets a navigation link; detail pages (`contacts/:id`) have none.
 *
 * Registration point: add a page with one entry here (and its import).
 */
export interface PageRoute {
  path: string;
  element: ReactNode;
  label?: string;
  section?: NavSection;
}

export const pages: PageRoute[] = [
  { path: '', label: 'Overview', element: <OverviewPage /> },
  { path: 'contacts', label: 'Contacts', section: 'Audience', element: <ContactsPage /> },
  { path: 'contacts/import', element: <ImportPage /> },
  { path: 'contacts/imports/:id', element: <ImportJobPage /> },
  { path: 'contacts/:id', element: <ContactPage /> },
];
