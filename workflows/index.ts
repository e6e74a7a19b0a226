// The worker bundles this file: every workflow type is exported here and nowhere else.
export { contactImportWorkflow, progressQuery } from './contact-import.js';
export type { ContactImportInput } from './contact-import.js';
