// Empty Python module: importing slowbench._C loads this shared library, whose static
// initialisers register the slowbench operators with the PyTorch dispatcher. Kept apart
// from the kernels so that the CMake build (a plain C++ library) does not need Python.
#include <Python.h>

extern "C" {
PyObject* PyInit__C(void) {
  static struct PyModuleDef module_def = {
      PyModuleDef_HEAD_INIT,
      "_C",     // name
      nullptr,  // documentation
      -1,       // per-interpreter state size
      nullptr,  // methods
  };
  return PyModule_Create(&module_def);
}
}
