module @jit_nested attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<3xf32>) -> (tensor<3xf32>) {
    %0 = func.call @_inner(%arg0) : (tensor<3xf32>) -> (tensor<3xf32>) loc("tests/test_golden_stablehlo.py":53:12)
    %cst = stablehlo.constant dense<2.0> : tensor<3xf32> loc("tests/test_golden_stablehlo.py":53:31)
    %1 = stablehlo.multiply %arg0, %cst : tensor<3xf32> loc("tests/test_golden_stablehlo.py":53:31)
    %2 = func.call @_inner(%1) : (tensor<3xf32>) -> (tensor<3xf32>) loc("tests/test_golden_stablehlo.py":53:24)
    %3 = stablehlo.add %0, %2 : tensor<3xf32> loc("tests/test_golden_stablehlo.py":53:12)
    return %3 : tensor<3xf32>
  }
  func.func private @_inner(%arg0: tensor<3xf32>) -> (tensor<3xf32>) {
    %0 = stablehlo.tanh %arg0 : tensor<3xf32> loc("tests/test_golden_stablehlo.py":49:12)
    %cst = stablehlo.constant dense<0.5> : tensor<3xf32> loc("tests/test_golden_stablehlo.py":49:12)
    %1 = stablehlo.multiply %0, %cst : tensor<3xf32> loc("tests/test_golden_stablehlo.py":49:12)
    return %1 : tensor<3xf32>
  }
}
