//! Asking before unsaved text is lost when the tab closes or reloads.
import { useEffect } from 'react';

/** Asks the browser to confirm leaving the page (close, reload) while `dirty`. */
export function useConfirmLeave(dirty: boolean) {
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);
}
