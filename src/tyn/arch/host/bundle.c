/* The host bundle's own (empty) module; the kernel modules inside it are
 * imported by name through tyn/__init__.py. */
#include <Python.h>

static struct PyModuleDef bundle = {
    PyModuleDef_HEAD_INIT, "tyn._hostkernel",
    "All Tyn kernel modules and their host twins, compiled into one shared object.", -1, NULL,
};

PyMODINIT_FUNC PyInit__hostkernel(void) { return PyModule_Create(&bundle); }
