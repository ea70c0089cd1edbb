module @jit_compare_select attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4xf32>, %arg1: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>, tensor<4xf32>) {
    %0 = stablehlo.compare LT, %arg0, %arg1, FLOAT : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1> loc("tests/test_golden_stablehlo.py":65:22)
    %cst = stablehlo.constant dense<-1.0> : tensor<4xf32> loc("tests/test_golden_stablehlo.py":65:32)
    %1 = stablehlo.multiply %arg1, %cst : tensor<4xf32> loc("tests/test_golden_stablehlo.py":65:32)
    %2 = stablehlo.select %0, %arg0, %1 : tensor<4xi1>, tensor<4xf32> loc("tests/test_golden_stablehlo.py":65:12)
    %3 = stablehlo.compare EQ, %arg0, %arg1, FLOAT : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1> loc("tests/test_golden_stablehlo.py":65:41)
    %cst_0 = stablehlo.constant dense<0.0> : tensor<4xf32> loc("tests/test_golden_stablehlo.py":65:83)
    %4 = stablehlo.compare GT, %arg0, %cst_0, FLOAT : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1> loc("tests/test_golden_stablehlo.py":65:83)
    %5 = stablehlo.convert %4 : (tensor<4xi1>) -> tensor<4xi32> loc("tests/test_golden_stablehlo.py":65:60)
    %c = stablehlo.constant dense<0> : tensor<4xi32> loc("tests/test_golden_stablehlo.py":65:49)
    %6 = stablehlo.compare LE, %5, %c, SIGNED : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi1> loc("tests/test_golden_stablehlo.py":65:49)
    %7 = stablehlo.select %6, %arg0, %arg1 : tensor<4xi1>, tensor<4xf32> loc("tests/test_golden_stablehlo.py":65:49)
    return %2, %3, %7 : tensor<4xf32>, tensor<4xi1>, tensor<4xf32>
  }
}
