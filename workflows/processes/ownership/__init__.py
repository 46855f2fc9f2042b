"""Client ownership (Process A, 第三十一条): the registry and its rules."""
