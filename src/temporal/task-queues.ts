/** Task-queue names live here and nowhere else. */
export const TASK_QUEUE = 'zumik';
